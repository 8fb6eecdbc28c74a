"""An entry whose body the cache keeps aside (its head in the timeline file) is drawn exactly
as it was when the whole text was there: cut with the same count of lines more, shown in full
by Enter, at every width, also when the head holds too little to fill the cut."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.style import Style

from support.timeline_screen import put_history, rows

from agentdesk.cache.cache import Cache
from agentdesk.cache.long_bodies import ASIDE, HEAD
from agentdesk.config import Config
from agentdesk.ui import timeline_draw as draw
from agentdesk.ui.app import AgentDesk
from agentdesk.ui.timeline import TimelineView

LOG = "\n".join(f"09:{i % 60:02d} worker {i} done" for i in range(40_000))
WORDS = "refund parcel 返金 🙂 " * 30_000
# What the cleaning drops (escape sequences) filling the whole head, then words: the head
# alone draws nothing, so the cut needs the text past it.
HIDDEN = "\x1b[31m" * (HEAD // 5 + 10) + "the words after the escapes " * 4_000


def texts(lines: draw.Lines) -> list[str]:
    return ["".join(s.text for s in strip) for strip in lines]


@pytest.mark.parametrize("body", [LOG, WORDS, HIDDEN], ids=["log", "words", "escapes first"])
def test_an_entry_kept_aside_draws_as_the_whole_one(tmp_path: Path, body: str) -> None:
    with Cache.open(tmp_path / "cache") as cache:
        put_history(cache, "cus_long", 3, conversations=1, body=lambda i: body if i == 1 else "hi")
        _, timeline = cache.view_profile("cus_long")
        head = timeline.chunk(0)[1]
        assert ASIDE in head.__dict__ and len(head.body) == HEAD
        whole = type(head)("entry", timeline.chunk_docs(0)[1])
        assert whole.body == body
        asked: list[str] = []

        def body_of(item):  # type: ignore[no-untyped-def]
            asked.append(item.id)
            return timeline.body_of(item)

        styles = {name: Style() for name in draw.STYLE_NAMES}
        now = datetime(2026, 1, 1, tzinfo=UTC)
        for width, limit in ((120, 20), (40, 8), (600, 150)):
            with_head = draw.Drawing(width, styles, now, None, limit, body_of=body_of)
            with_all = draw.Drawing(width, styles, now, None, limit)
            for expanded in (False, True):
                assert texts(draw.entry(head, with_head, expanded)[0]) == \
                    texts(draw.entry(whole, with_all, expanded)[0]), (width, limit, expanded)
        # Cut, the head is enough but where it holds fewer lines than the cut shows: 150 lines
        # of 600 columns of wide characters, or escapes filling it. The rest is read only then.
        cut_reads = len(asked) - 3  # one read for each width, shown in full
        assert cut_reads == {LOG: 0, WORDS: 1, HIDDEN: 3}[body]


async def test_enter_on_an_entry_kept_aside_shows_its_last_line(tmp_path: Path, config: Config) -> None:
    body = LOG + "\nTHE LAST LINE OF THE LOG"
    with Cache.open(tmp_path / "cache") as cache:
        put_history(cache, "cus_long", 3, conversations=1, body=lambda i: body if i == 2 else "hi")
        app = AgentDesk(cache, config, customer_id="cus_long")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            view = app.screen.query_one(TimelineView)
            assert any("more lines · enter shows all" in r for r in rows(view))
            assert not any("THE LAST LINE" in r for r in rows(view))
            await pilot.press("enter", "G")
            await pilot.pause()
            shown = rows(view)
            assert any("THE LAST LINE OF THE LOG" in r for r in shown), shown
            assert any("enter shows less" in r for r in shown)
