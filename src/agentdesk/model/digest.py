"""A digest of a set of records, computed the same way by the store and by a desk's cache.

Two replicas hold the same data exactly when their digests are equal: the crash tests compare
a cache's digest with the server's after a final sync. Revisions and sequence numbers are left
out (they are bookkeeping, not data); each record's data is its domain model dumped as JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest(records: Iterable[tuple[str, str, str, dict[str, Any]]]) -> str:
    """sha256 over (type, id, customer_id, data) of every live record, in sorted order."""
    lines = sorted(
        f"{kind}\t{record_id}\t{customer_id}\t{canonical(data)}"
        for kind, record_id, customer_id, data in records
    )
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode())
        h.update(b"\n")
    return h.hexdigest()
