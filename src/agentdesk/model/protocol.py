"""The sync protocol between a desk and a remote store: the wire models, shared by both ends.

No UI and no server imports: the server (`agentdesk.server`) and the sync engine
(`agentdesk.sync.engine`) both speak these models, and the OpenAPI schema the server publishes is
generated from them. The protocol is described for people in `docs/sync-protocol.md`.

Records travel as *changes*: the latest state of one record (an upsert) or its tombstone (a
delete), ordered by the store's sequence number. Every record has a `revision` (the store's
sequence number when it was last written), which is what a mutation says it was based on.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

API_PREFIX = "/v1"
PROTOCOL_VERSION = 1
DEFAULT_PAGE = 500
MAX_PAGE = 5000
MAX_BATCH = 200
# A change in a feed page the desk cannot store (see remote._loads) becomes {UNREADABLE: why}.
UNREADABLE = "unreadable"
# The largest request body the reference store reads (413 past it); the desk sends less.
MAX_BODY = 16 << 20
# Levels of nesting a cache file adds around a record (file, table, document, and the spool's
# lines): a record is storable only if it can be written this much deeper (orjson: 255).
FILE_LEVELS = 8


def unstorable(value: Any) -> str | None:
    """Why `value` (JSON data) cannot be written to a cache file and read back the same, or
    None: nested too deep, a lone surrogate, an integer past 64 bits (read back as a float).
    The store refuses such a record; the desk skips it."""
    for _ in range(FILE_LEVELS):
        value = [value]
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError as error:
        return str(error)
    return None


class Wire(BaseModel):
    """Base of the wire models: unknown fields are kept, so a newer server does not break us."""

    model_config = ConfigDict(extra="allow")


class RecordType(StrEnum):
    CUSTOMER = "customer"
    CONTACT = "contact"
    RELATIONSHIP = "relationship"
    NOTE = "note"
    CONVERSATION = "conversation"
    ENTRY = "entry"
    FIELD = "field"  # one field of a customer, every source's value (model.fields)
    IDENTIFIER = "identifier"  # an e-mail, phone or token with its statuses
    SUBSCRIPTION = "subscription"  # a list or subscription category the customer is on
    SEGMENT = "segment"  # a segment the customer belongs to (read-only for desks)


class ChangeOp(StrEnum):
    UPSERT = "upsert"  # `data` is the record's full current state
    DELETE = "delete"  # tombstone; `data` is the record's last state (entries: at least `at`)
    MERGE = "merge"  # customer `id` was merged into `data["into"]`; its records follow as upserts
    EVICT = "evict"  # customer `id` left this agent's scope: drop it from the cache
    INCLUDE = "include"  # customer `id` joined this agent's scope: fetch its profile


class Change(Wire):
    """One entry of the change feed."""

    seq: int = Field(description="The store's sequence number of this change; increasing.")
    op: ChangeOp
    type: RecordType
    id: str = Field(min_length=1, max_length=128)
    customer_id: str = Field(min_length=1, max_length=128)
    revision: int = Field(description="The record's revision after this change.")
    data: dict[str, Any] | None = None


class FeedPage(Wire):
    """A page of the change feed after a cursor."""

    epoch: str = Field(description="Identity of the store; changes when it is rebuilt or restored.")
    changes: list[Change]
    next_cursor: str = Field(description="Opaque; pass it back to get the changes after this page.")
    more: bool = Field(description="True when more changes remain after next_cursor.")


class ProfileSnapshot(Wire):
    """Every record of one customer, as upserts (GET /v1/customers/{id})."""

    epoch: str
    customer_id: str
    changes: list[Change]


class SearchHit(Wire):
    id: str
    name: str
    email: str = ""
    phone: str = ""
    company: str = ""


class SearchResults(Wire):
    epoch: str
    hits: list[SearchHit]


class MutationKind(StrEnum):
    NOTE_ADD = "note.add"  # data: the Note (with its client-made id)
    NOTE_EDIT = "note.edit"  # data: {"set": {"text": ...}, "base": {"text": ...}}
    NOTE_DELETE = "note.delete"  # data: {}
    CUSTOMER_UPDATE = "customer.update"  # data: {"set": {field: value}, "base": {field: value}}
    CONTACT_UPSERT = "contact.upsert"  # data: {"set": ContactPoint fields, "base": old or None}
    CONTACT_DELETE = "contact.delete"  # data: {"base": the contact as the desk last saw it}
    FIELD_SET = "field.set"  # data: {"key", "type", "group", "label", "value", "by", "base": desk value or None}
    FIELD_REMOVE = "field.remove"  # data: {"base": the field as the desk last saw it}
    IDENTIFIER_CONSENT = "identifier.consent"  # data: {"set": {"consent": ...}, "base": {"consent": ...}}
    SUBSCRIPTION_ADD = "subscription.add"  # data: the Subscription (with its client-made id)
    SUBSCRIPTION_REMOVE = "subscription.remove"  # data: {"base": the subscription or None}
    # Working conversations (the data of each: `agentdesk.model.work_mutations`).
    CONVERSATION_UPDATE = "conversation.update"  # data: {"set": {field: value}, "base": {...}}
    REPLY_ADD = "reply.add"  # data: the outbound TimelineEntry, or an internal note; target: its id
    CONVERSATION_START = "conversation.start"  # data: {"conversation": ..., "entry": ...}
    CUSTOMER_CREATE = "customer.create"  # data: {"customer": ..., "contacts": [...]}
    RELATIONSHIP_UPSERT = "relationship.upsert"  # data: {"set": Relationship, "base": old or None}
    RELATIONSHIP_DELETE = "relationship.delete"  # data: {"base": the relationship as seen}
    CUSTOMER_ERASE = "customer.erase"  # data: {"confirm": the customer's name as shown}
    # A feedback entry (target) moved to another customer's timeline under a new client-made
    # id. data: {"to": customer id, "new_id": entry id, "base": the entry as the desk saw it}
    FEEDBACK_REASSIGN = "feedback.reassign"
    FEEDBACK_UNLINK = "feedback.unlink"  # data: {"base": the entry}; it leaves the timeline
    # A survey response's agent-set fields. data: {"set": {"ignored": bool} and/or
    # {"tags": [str]}, "base": the same fields as the desk saw them}
    RESPONSE_UPDATE = "response.update"


class Mutation(Wire):
    """One queued edit from a desk."""

    id: str = Field(min_length=1, max_length=128, description="Client-made idempotency id.")
    kind: MutationKind
    customer_id: str = Field(min_length=1, max_length=128)
    target: str = Field(min_length=1, max_length=128, description="Id of the record edited.")
    base_revision: int | None = Field(
        default=None, description="Revision of the record the edit was made on; None if new."
    )
    data: dict[str, Any] = Field(default_factory=dict)
    made_at: str = ""


class MutationBatch(Wire):
    mutations: list[Mutation] = Field(max_length=MAX_BATCH)


class MutationStatus(StrEnum):
    APPLIED = "applied"
    CONFLICT = "conflict"  # some fields were not applied: the server's value won
    REJECTED = "rejected"  # nothing applied; `reason` says why; retrying will not help


class MutationResult(Wire):
    id: str
    status: MutationStatus
    revision: int | None = Field(default=None, description="The record's revision afterwards.")
    current: dict[str, Any] | None = Field(
        default=None, description="The record as the store now has it (conflicts)."
    )
    conflicts: list[str] = Field(
        default_factory=list, description="Fields whose value on the store won over the edit."
    )
    reason: str = ""
    written: dict[str, int] = Field(
        default_factory=dict,
        description='Every record the mutation wrote, "type:id" -> its revision (kinds that '
                    'write several records: a reply writes its entry and its conversation). '
                    "A desk takes their arrival in the feed as its own edit's echo.")


class MutationResults(Wire):
    epoch: str
    results: list[MutationResult]


class ErrorBody(Wire):
    error: str
    detail: str = ""
    epoch: str = Field(default="", description="The store's epoch (every answer carries it).")
    merged_into: str = Field(
        default="", description="404 of a merged customer: the customer it now lives in."
    )


class StoreStatus(Wire):
    """GET /v1/status: who the store is and how far its change feed goes."""

    epoch: str
    head: int = Field(description="The store's latest sequence number.")
    protocol: int = Field(description="PROTOCOL_VERSION the store speaks.")


class CannedReplyWire(Wire):
    id: str = Field(min_length=1, max_length=128)
    title: str
    body: str
    tags: list[str] = Field(default_factory=list)


class CannedReplies(Wire):
    """GET /v1/canned: the store's reply templates (store-wide, not per customer)."""

    epoch: str
    replies: list[CannedReplyWire]


class AgentWire(Wire):
    name: str = Field(min_length=1, max_length=128,
                      description="What a conversation's assignee holds.")
    display_name: str = ""


class Agents(Wire):
    """GET /v1/agents: the agents known to the store (for the assignee picker)."""

    epoch: str
    agents: list[AgentWire]
    me: str = Field(description="The name of the agent whose token asked.")


class DigestBody(Wire):
    """GET /v1/digest: `agentdesk.model.digest.digest` over every live record of the store."""

    epoch: str
    digest: str
