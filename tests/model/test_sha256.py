"""The SHA-256 the start-up path uses instead of hashlib's gives hashlib's digests: the cache's
shard folders and file names of ids depend on them."""

from __future__ import annotations

import hashlib

import pytest

from agentdesk.cache import layout
from agentdesk.model.sha256 import sha256


@pytest.mark.parametrize("data", [b"", b"cus_000178", "Ådá Çöşkun 李".encode(), bytes(range(256)) * 300])
def test_the_same_digest_as_hashlib(data: bytes) -> None:
    assert sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    fed = sha256()
    fed.update(data[:7])
    fed.update(data[7:])
    assert fed.digest() == hashlib.sha256(data).digest()


def test_shards_and_file_names_are_unchanged() -> None:
    """Folders made by earlier versions are found: the names are hashlib's SHA-256."""
    assert layout.shard_of("cus_000178") == hashlib.sha256(b"cus_000178").hexdigest()[:2]
    assert layout.file_name("a/b") == "~" + hashlib.sha256(b"a/b").hexdigest()
