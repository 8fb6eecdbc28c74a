"""The timeline scan: what find and filter know of each timeline file, read once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agentdesk.cache import timeline as timeline_files
from agentdesk.cache.cache import Cache
from agentdesk.cache.timeline import TimelineSummary
from agentdesk.cache.timeline_scan import ChunkFacts, TimelineScan, code, visible_table
from agentdesk.model import demo
from agentdesk.model.records import Channel, Conversation, Customer, Direction, Profile, TimelineEntry


def doc(i: int, body: str, channel: str = "chat", direction: str = "inbound", conv: str = "c1") -> dict:
    return {"id": f"e{i}", "conversation_id": conv, "channel": channel, "direction": direction,
            "subject": "", "body": body, "author": "Ada"}


def test_matches_find_each_entry_once_in_any_case_and_never_across_two() -> None:
    facts = ChunkFacts.of([doc(0, "Refund, refund, REFUND"), doc(1, "nothing"), doc(2, "a refund"),
                           doc(3, "ends with ref"), doc(4, "und starts")])
    assert facts.matches("refund") == [0, 2]
    assert facts.matches("ref") == [0, 2, 3]
    assert facts.matches("refund\x00und") == []  # the separator is no text
    assert facts.matches("ada") == [0, 1, 2, 3, 4]  # the author is searched too


def test_masks_show_what_the_filter_lets_through() -> None:
    facts = ChunkFacts.of([doc(0, "", "email", "inbound", "c1"), doc(1, "", "chat", "outbound", "c1"),
                           doc(2, "", "note", "internal", "c2"), doc(3, "", "email", "outbound", "c2")])
    assert facts.codes[0] == code("email", "inbound")
    table = visible_table({"email"}, set())
    assert facts.codes.translate(table) == bytes([0, 1, 1, 0])
    table = visible_table(set(), {"outbound"})
    assert facts.codes.translate(table) == bytes([1, 0, 1, 0])


def test_a_scan_reads_every_file_once_and_keeps_what_a_newer_version_shares(tmp_path: Path) -> None:
    conv = [Conversation(id=f"c{i}", topic=f"T{i}", started=demo.EPOCH) for i in range(3)]
    entries = [TimelineEntry(id=f"e{i:04d}", conversation_id=f"c{i % 3}", at=demo.EPOCH + timedelta(minutes=i),
                             channel=Channel.CHAT, direction=Direction.INBOUND, body=f"message {i}")
               for i in range(1000)]
    with Cache.open(tmp_path / "c") as cache:
        cache.put_profile(Profile(customer=Customer(id="x", name="X"), conversations=conv), entries,
                          durable=False)
        timeline = cache.view_profile("x")[1]
        scan = TimelineScan(timeline)
        assert scan.chunks == 5 and not scan.complete
        assert scan.missing() == [4, 3, 2, 1, 0]  # newest first
        seen: list[int] = []
        assert scan.read_all(lambda done, total: seen.append(done), every=2)
        assert scan.complete and seen == [2, 4, 5]
        assert scan.matches("message 99") == {0: [99], 4: [990 - 800 + i for i in range(10)]}
        masks = scan.masks(visible_table(set(), set()), "c1")
        assert sum(m.count(1) for m in masks) == 333
        # A sync filing a new entry rewrites one file (under a new name): a scan of the new
        # version reads just that one.
        new = entries[-1].model_copy(update={"id": "e9999", "body": "new", "at": entries[-1].at
                                             + timedelta(minutes=1)})
        with cache.change_profile("x") as profile:
            summary, inline, obsolete = timeline_files.apply(
                cache.timeline_dir("x"), TimelineSummary.from_json(profile.timeline_summary()),
                profile.inline_entries(), [new.model_dump(mode="json")], [], durable=False)
            profile.set_timeline(summary, inline)
        for path in obsolete:
            path.unlink()
        newer = TimelineScan(cache.view_profile("x")[1], scan)
        assert newer.missing() == [4]
        assert newer.read_all() and newer.matches("new") == {4: [200]}
        # The whole timeline written again (same file names, other contents): read again.
        changed = [e.model_copy(update={"body": f"changed {i}"}) for i, e in enumerate(entries)]
        cache.put_profile(Profile(customer=Customer(id="x", name="X"), conversations=conv), changed,
                          durable=False)
        again = TimelineScan(cache.view_profile("x")[1], newer)
        assert again.missing() == [4, 3, 2, 1, 0]
