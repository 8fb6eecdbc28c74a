"""Bodies too long to keep in a timeline file, each kept beside it in a file of its own.

A 1 MB body (a pasted log, an attachment's text) kept in the profile file or a chunk was read
and parsed whole at every open of its customer, though the timeline shows its first lines
until the agent asks for the rest: three of them cost an open 4-7 ms, most of it the fresh
memory their text needs (benchmarks/README.md, "Opens of long histories"). So a body longer
than HEAD characters is written to `<timeline folder>/bodies/<name>` and the entry keeps its
first HEAD characters as `body`, and in ASIDE the file's name and the whole text's length and
lines: what drawing it cut needs (`ui.timeline_draw` wraps a prefix of a long text and
estimates the rest from its first 64k characters and its length), and what the timeline's
summary counts. Finding, editing and checking read entries whole (`whole`).

A file's name is a hash of the entry's id and its text, and a file is never changed: written
(and synced) before the chunk or profile file naming it, so a crash leaves nothing named that
is missing; a sync retried after a crash writes the same name again; a file is removed only
after the file that named it was replaced by one that does not (`timeline.apply`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agentdesk.cache.database import single
from agentdesk.cache.files import AtomicJSONStorage, read_json
from agentdesk.model.sha256 import sha256  # not hashlib: this is imported before the first frame

HEAD = 1 << 16  # characters kept in the entry: what drawing it cut reads (timeline_draw.SAMPLE)
FOLDER = "bodies"
ASIDE = "body_aside"  # the entry's field saying where the rest is: {"file", "chars", "lines"}
_NAME = re.compile(r"[0-9a-f]{32}\.json")


def name_of(entry_id: str, body: str) -> str:
    digest = sha256(f"{entry_id}\0{body}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32] + ".json"


def put_aside(folder: Path, docs: Iterable[dict[str, Any]], durable: bool, *,
              stored: bool = False) -> list[dict[str, Any]]:
    """Entries with each long body written to its own file and replaced by its head.

    Entries arriving (from the store, an edit, an import) come whole: an ASIDE field that came
    with one is not ours (the store knows nothing of it) and is dropped, as it could name
    another entry's file. `stored` entries, read from a file about to be rewritten, keep theirs
    (and those a cache of schema 10 kept whole move aside now)."""
    out = []
    for doc in docs:
        if ASIDE in doc:
            if stored:
                out.append(doc)
                continue
            doc = {k: v for k, v in doc.items() if k != ASIDE}
        body = doc.get("body")
        if isinstance(body, str) and len(body) > HEAD:
            name = name_of(str(doc["id"]), body)
            path = folder / FOLDER / name
            if not path.exists():  # written by an earlier try: the same text
                AtomicJSONStorage(path, durable=durable).write(
                    {"body": {"1": {"id": doc["id"], "text": body}}})
            doc = {**doc, "body": body[:HEAD],
                   ASIDE: {"file": name, "chars": len(body), "lines": body.count("\n") + 1}}
        out.append(doc)
    return out


def check(docs: list[dict[str, Any]]) -> None:
    """ValueError if a stored entry's ASIDE is not what `put_aside` writes: found when its
    chunk is read, not in the middle of drawing it."""
    for doc in docs:
        if ASIDE not in doc:
            continue
        aside = doc[ASIDE]
        if not (isinstance(aside, dict) and isinstance(aside.get("file"), str)
                and type(aside.get("chars")) is int and type(aside.get("lines")) is int
                and isinstance(doc.get("body"), str) and aside["chars"] >= len(doc["body"])):
            raise ValueError(f"entry {str(doc.get('id'))[:40]} says badly where its body is")


def files_named(docs: Iterable[dict[str, Any]]) -> set[str]:
    """The body files these stored entries name."""
    return {aside["file"] for d in docs if isinstance(aside := d.get(ASIDE), dict)
            and isinstance(aside.get("file"), str)}


def text_size(doc: dict[str, Any]) -> tuple[int, int]:
    """(lines, characters) of a stored entry's whole body."""
    aside = doc.get(ASIDE)
    if isinstance(aside, dict):
        return int(aside["lines"]), int(aside["chars"])
    body = str(doc.get("body", ""))
    return body.count("\n") + 1, len(body)


def read_body(folder: Path, doc: dict[str, Any]) -> str:
    """A stored entry's whole body. ValueError if its file is missing or is not this entry's
    text (the cache is damaged: the caller has the customer fetched again)."""
    aside = doc.get(ASIDE)
    if not isinstance(aside, dict):
        return str(doc.get("body") or "")
    name = aside.get("file")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"entry {str(doc.get('id'))[:40]} names a body file badly")
    data = read_json(folder / FOLDER / name)
    if data is None:
        raise ValueError(f"the body file of entry {str(doc.get('id'))[:40]} is missing")
    found = single(data, "body") or {}
    text = found.get("text")
    head = doc.get("body") or ""
    if (found.get("id") != doc.get("id") or not isinstance(text, str)
            or len(text) != aside.get("chars") or not text.startswith(head)):
        raise ValueError(f"the body file of entry {str(doc.get('id'))[:40]} is not its text")
    return text


def whole(folder: Path, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored entries with every body read back whole, as they arrived (ValueError as
    `read_body`); the same list when none was put aside."""
    if not any(ASIDE in d for d in docs):
        return docs
    return [d if ASIDE not in d else
            {**{k: v for k, v in d.items() if k != ASIDE}, "body": read_body(folder, d)}
            for d in docs]
