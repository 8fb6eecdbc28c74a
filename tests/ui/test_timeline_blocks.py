"""The timeline's blocks, cut from the summary alone: the lists made per file give what one
block at a time would."""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

import pytest

from agentdesk.cache.timeline import Timeline, TimelineSummary
from agentdesk.ui.timeline_blocks import BLOCK, OLD_BLOCK, Blocks


def blocks_of(sizes: list[int], starts: dict[str, int], tmp_path: Path) -> Blocks:
    summary = TimelineSummary(chunk_sizes=sizes, chunk_text=[(size * 2, size * 90) for size in sizes],
                              starts=starts)
    blocks = Blocks()
    blocks.show(Timeline(tmp_path, summary))
    blocks.reset(width=80, limit=6)
    return blocks


@pytest.mark.parametrize("sizes", [
    [], [7], [200, 200, 200, 13], [200, 0, 37, 200, 3], [1, 1, 1], [OLD_BLOCK, BLOCK, BLOCK + 1],
])
def test_blocks_are_cut_as_one_block_at_a_time_would(sizes: list[int], tmp_path: Path) -> None:
    total = sum(sizes)
    starts = {f"conv{p}": p for p in range(0, total, 9)}
    blocks = blocks_of(sizes, starts, tmp_path)
    expected = [(chunk, start, min(start + step, size))
                for chunk, size in enumerate(sizes)
                for step in (BLOCK if chunk >= len(sizes) - 2 else OLD_BLOCK,)
                for start in range(0, size, step)]
    assert list(blocks.spans) == expected
    assert [blocks.spans[i] for i in range(len(expected))] == expected
    assert blocks.first[-1] == total and len(blocks.first) == len(expected) + 1
    for block, (_, start, end) in enumerate(expected):
        assert blocks.first[block + 1] - blocks.first[block] == end - start
        assert blocks.shown(block) == list(range(start, end))
    per_block = [0] * len(expected)
    for position in starts.values():
        per_block[bisect_right(blocks.first, position) - 1] += 1
    # Each heading counts two lines in the block it starts in: the estimates say where.
    without = blocks_of(sizes, {}, tmp_path)
    assert [a - b for a, b in zip(blocks.heights, without.heights, strict=True)] == \
        [2 * min(n, end - start) for n, (_, start, end) in zip(per_block, expected, strict=True)]
    assert blocks.lines == sum(blocks.heights)
