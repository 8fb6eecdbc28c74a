"""A cache to chart: the demo (its ordinary customers' e-mails and phones carry consent,
some given, some not), with an opted-in e-mail identifier given to every third customer (by
id), through the cache's one door: more reachable customers than the demo has."""

from __future__ import annotations

from agentdesk.cache.cache import Cache
from agentdesk.model.identifiers import Identifier


def make_some_reachable(cache: Cache) -> Cache:
    for n, row in enumerate(sorted(cache.index_rows(), key=lambda r: r.id)):
        if n % 3 == 0:
            with cache.change_profile(row.id) as profile:
                profile.put("identifiers", Identifier(
                    kind="email", value=f"c{n}@example.com", consent="opted_in",
                ).model_dump(mode="json"))
    return cache
