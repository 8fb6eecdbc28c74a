"""Reading cache files: large ones through a memory mapping (cache.files.read_json)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest


def test_a_large_file_reads_back_the_same_through_its_mapping(tmp_path: Path) -> None:
    """Files from MAPPED bytes on are parsed from a memory mapping: the same values as a small
    file's read, text outside ASCII included; an empty or truncated large file is an error,
    as a small one is, and a missing one is None."""
    from agentdesk.cache.files import MAPPED, read_json

    rows = {str(n): {"id": f"cus_{n:06d}", "name": "Zoë Ødegård [bold]\u202e"} for n in range(2000)}
    big = tmp_path / "big.json"
    big.write_bytes(orjson.dumps({"customers": rows}))
    assert big.stat().st_size >= MAPPED
    assert read_json(big) == {"customers": rows}
    cut = tmp_path / "cut.json"
    cut.write_bytes(big.read_bytes()[: MAPPED + 10])
    with pytest.raises(ValueError):
        read_json(cut)
    assert read_json(tmp_path / "missing.json") is None
