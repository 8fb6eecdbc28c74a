"""The desk's notes on a customer, kept in the RT user's Comments field.

RT has one place for what staff know about a person: the user's *Comments* ("Comments about
this user", on the user's admin page and shown to staff, never to the requestor). The desk's
notes go there, one block each after whatever staff wrote by hand, so RT's own screens show
them and nothing needs installing in RT (a custom field would need an administrator first):

    Prefers phone calls after 5 pm.                 <- staff's own text: one note
    -- agentdesk note {"id": "note_1f…", "author": "Sam", "created": "…", "updated": "…"}
    Allergic to nuts.
    -- agentdesk contacts {"mobilephone": "cp_9a…"}

A note's text line that starts like a marker, or with a backslash, gets a backslash in front.
The `contacts` line remembers the id the desk gave a contact point it added, so the contact
keeps that id when it comes back from RT (RT stores contact points in fixed fields, see
`records.SLOTS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

MARK = "-- agentdesk "
NOTE, CONTACTS = MARK + "note ", MARK + "contacts "
# What RT writes in Comments by itself when it creates a user: not an agent's note.
RT_DEFAULTS = frozenset({
    "Autocreated when added as a watcher",
    "Autocreated on ticket submission",
    "Autocreated by RT::Interface::Email",
})


@dataclass
class Comments:
    staff: str = ""  # the text before the first block, as staff wrote it
    notes: list[dict[str, Any]] = field(default_factory=list)  # id, text, author, created, updated
    contact_ids: dict[str, str] = field(default_factory=dict)  # slot -> the desk's contact id

    def note(self, note_id: str) -> dict[str, Any] | None:
        return next((n for n in self.notes if n["id"] == note_id), None)


def parse(text: str | None) -> Comments:
    out = Comments()
    staff: list[str] = []
    current: list[str] | None = None
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        if line.startswith(NOTE):
            meta = _meta(line[len(NOTE):])
            if meta is not None and isinstance(meta.get("id"), str) and meta["id"]:
                current = []
                out.notes.append({**meta, "text": current})
                continue
        elif line.startswith(CONTACTS):
            meta = _meta(line[len(CONTACTS):])
            if meta is not None:
                out.contact_ids = {str(k): str(v) for k, v in meta.items() if v}
                current = None
                continue
        if current is None:
            staff.append(line)
        else:
            current.append(line[1:] if line.startswith("\\") else line)
    for note in out.notes:
        note["text"] = "\n".join(note["text"]).strip("\n")
    out.staff = "\n".join(staff).strip()
    return out


def render(comments: Comments) -> str:
    lines = [comments.staff] if comments.staff else []
    for note in comments.notes:
        meta = {k: note.get(k, "") for k in ("id", "author", "created", "updated")}
        lines.append(NOTE + orjson.dumps(meta).decode())
        for line in str(note.get("text", "")).split("\n"):
            lines.append("\\" + line if line.startswith((MARK, "\\")) else line)
    if comments.contact_ids:
        lines.append(CONTACTS + orjson.dumps(dict(sorted(comments.contact_ids.items()))).decode())
    return "\n".join(lines)


def staff_note_text(comments: Comments) -> str:
    """Staff's own text, unless it is only what RT wrote when it made the user."""
    return "" if comments.staff in RT_DEFAULTS else comments.staff


def _meta(raw: str) -> dict[str, Any] | None:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
