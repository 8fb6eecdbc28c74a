"""Reading a cache the way tests want to: as models, and as a digest to compare with the store.

The desk itself reads profiles as views (`Cache.view_profile`) and models only to edit
(`Cache.load_profile`); these helpers exist for assertions, so they live with the tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from agentdesk.cache.cache import Cache
from agentdesk.cache.database import single
from agentdesk.cache.files import read_json
from agentdesk.cache.profile_file import TABLE_OF, docs
from agentdesk.cache import long_bodies
from agentdesk.cache.timeline import Timeline, TimelineSummary, chunk_docs, inline_docs
from agentdesk.model.digest import digest
from agentdesk.model.records import Profile, TimelineEntry, from_stored


class ModelTimeline(Timeline):
    """A timeline whose entries are models (comparable with the ones a test wrote)."""

    def chunk(self, index: int) -> Sequence[TimelineEntry]:  # type: ignore[override]
        return [from_stored(TimelineEntry, doc) for doc in self.chunk_docs(index)]


def timeline_of(cache: Cache, customer_id: str) -> ModelTimeline:
    """The customer's timeline (empty if the customer is not cached)."""
    loaded = cache.view_profile(customer_id)
    if loaded is None:
        return ModelTimeline(cache.timeline_dir(customer_id), TimelineSummary())
    view = loaded[1]
    return ModelTimeline(view.folder, view.summary, view._inline)


def open_profile(cache: Cache, customer_id: str) -> tuple[Profile, ModelTimeline] | None:
    profile = cache.load_profile(customer_id)
    return None if profile is None else (profile, timeline_of(cache, customer_id))


def cache_records(cache: Cache) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(type, id, customer id, data) of every record in the cache."""
    for path in sorted((cache.root / "customers").glob("*/*.json")):
        tables = read_json(path) or {}
        customer = single(tables, "customer")
        if customer is None:
            continue
        customer_id = customer["id"]
        yield "customer", customer_id, customer_id, customer
        for kind, name in TABLE_OF.items():
            if name != "customer":
                for doc in docs(tables, name):
                    yield kind, doc["id"], customer_id, doc
        summary = TimelineSummary.from_json(single(tables, "timeline") or {})
        folder = cache.timeline_dir(customer_id)
        inline = inline_docs(tables)
        for index in range(len(summary.chunk_sizes)):
            # Whole: a long body's rest is in a file of its own (`long_bodies`).
            for entry in long_bodies.whole(folder, chunk_docs(folder, summary.file(index), inline)):
                yield "entry", entry["id"], customer_id, entry


def cache_digest(cache: Cache) -> str:
    """The same digest the store computes over its live records (`GET /v1/digest`)."""
    return digest(cache_records(cache))
