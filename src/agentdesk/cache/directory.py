"""What the store lists for every agent, not per customer: canned replies and the agents.

Fetched at each sync (`GET /v1/canned`, `GET /v1/agents`) and kept in `canned.json` and
`agents.json` (TinyDB) so the composer and the assignee picker work offline. Each sync
replaces them whole: they are small, and the store's list is the truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentdesk.cache.database import changing, put_single, single
from agentdesk.cache.files import read_json
from agentdesk.cache.profile_file import docs

if TYPE_CHECKING:
    from agentdesk.model.records import AgentInfo, CannedReply

CANNED = "canned.json"
AGENTS = "agents.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = read_json(path)
    except (ValueError, OSError):
        return {}  # damaged: empty until the next sync writes it again
    return data if isinstance(data, dict) else {}


class StoreDirectory:
    """The cache's copy of the store's canned replies and agents (methods of `Cache`)."""

    if TYPE_CHECKING:  # provided by Cache
        root: Path

        def require_writable(self) -> None: ...

    def canned_replies(self) -> list[CannedReply]:
        """The store's reply templates as last synced, by title."""
        from agentdesk.model.records import CannedReply

        found = []
        for doc in docs(_read(self.root / CANNED), "replies"):
            try:
                found.append(CannedReply.model_validate(doc))
            except ValueError:
                continue
        return sorted(found, key=lambda r: (r.title.casefold(), r.id))

    def agents(self) -> list[AgentInfo]:
        """The agents the store knows, as last synced, by display name."""
        from agentdesk.model.records import AgentInfo

        found = []
        for doc in docs(_read(self.root / AGENTS), "agents"):
            try:
                found.append(AgentInfo.model_validate(doc))
            except ValueError:
                continue
        return sorted(found, key=lambda a: ((a.display_name or a.name).casefold(), a.name))

    def me(self) -> str:
        """The name the store knows this desk's agent by (its token's), "" before a sync."""
        me = (single(_read(self.root / AGENTS), "me") or {}).get("name")
        return me if isinstance(me, str) else ""

    def save_canned_replies(self, replies: list[CannedReply]) -> None:
        self.require_writable()
        with changing(self.root / CANNED) as db:
            db.drop_table("replies")
            db.table("replies").insert_multiple(r.model_dump(mode="json") for r in replies)

    def save_agents(self, agents: list[AgentInfo], me: str) -> None:
        self.require_writable()
        with changing(self.root / AGENTS) as db:
            db.drop_table("agents")
            db.table("agents").insert_multiple(a.model_dump(mode="json") for a in agents)
            put_single(db, "me", {"name": me})
