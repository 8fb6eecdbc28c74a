"""What a store lists for every agent, not per customer: canned replies and the agents.

Kept in one table of their own on every engine (`directory`: kind, id, JSON data), outside
the records and their change feed: a desk fetches them whole at each sync (`GET /v1/canned`,
`GET /v1/agents`), they are few, and they hold nobody's personal data. The agents are those
listed here plus every agent a live token belongs to (its name doubling as display name), so
a store that lists none still knows who can be assigned a conversation.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from agentdesk.model.records import AgentInfo, CannedReply
from agentdesk.server.store import StoreError
from agentdesk.server.stored import reason

CANNED, AGENT = "canned", "agent"


class Directory:
    """The shared half of a store's canned replies and agents; an engine provides the rows
    (`_directory_rows`, `_write_directory`) and its tokens' agents (`_token_agents`)."""

    def _directory_rows(self, kind: str) -> list[str]:
        raise NotImplementedError

    def _write_directory(self, kind: str, id: str, data: str | None) -> bool:
        """Put (or, for None, remove) one entry; whether anything was there or written."""
        raise NotImplementedError

    def _token_agents(self) -> list[str]:
        raise NotImplementedError

    def canned(self) -> list[CannedReply]:
        """The canned replies, by title."""
        found = [CannedReply.model_validate_json(d) for d in self._directory_rows(CANNED)]
        return sorted(found, key=lambda r: (r.title.casefold(), r.id))

    def put_canned(self, record: dict[str, Any]) -> CannedReply:
        """Add or replace (by id) a canned reply; StoreError if it is not one."""
        reply = _checked(CannedReply, record)
        if not reply.title.strip() or not reply.body.strip():
            raise StoreError("a canned reply needs a title and a body")
        self._write_directory(CANNED, reply.id, reply.model_dump_json())
        return reply

    def remove_canned(self, reply_id: str) -> bool:
        return self._write_directory(CANNED, reply_id, None)

    def agents(self) -> list[AgentInfo]:
        """Every agent: those listed, then token holders not listed; by display name."""
        listed = {a.name: a for a in (AgentInfo.model_validate_json(d)
                                      for d in self._directory_rows(AGENT))}
        for name in self._token_agents():
            listed.setdefault(name, AgentInfo(name=name, display_name=name))
        return sorted(listed.values(), key=lambda a: ((a.display_name or a.name).casefold(), a.name))

    def put_agent(self, record: dict[str, Any]) -> AgentInfo:
        agent = _checked(AgentInfo, record)
        if not agent.name.strip():
            raise StoreError("an agent needs a name")
        self._write_directory(AGENT, agent.name, agent.model_dump_json())
        return agent


def _checked(model: type[Any], record: dict[str, Any]) -> Any:
    try:
        return model.model_validate(record)
    except ValidationError as error:
        raise StoreError(reason(error)) from None


def read_list(text: str, what: str) -> list[dict[str, Any]]:
    """A JSON file's list of records (canned replies or agents to import), or StoreError."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise StoreError(f"{what}: not JSON ({error})") from None
    if isinstance(data, dict):
        data = data.get("replies", data.get("agents"))
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise StoreError(f"{what}: expected a list of objects")
    return data
