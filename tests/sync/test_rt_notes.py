"""Internal notes on a conversation written in the desk, sent to a real Request Tracker 5 as
Comment transactions: the agent's text exactly, not e-mailed to the requestor, once however
the push is cut and retried, and one timeline entry after the next pull."""

from __future__ import annotations

from typing import Any

from agentdesk.cache.cache import Cache
from support.rt_world import USER, RTServer, RTStaff, rt, staff  # noqa: F401 (fixtures)
from test_rt_replies import HOSTILE, cache, entries, messages, started, sync  # noqa: F401 (fixture)


def mailed(staff: RTStaff, ticket: int) -> list[dict[str, Any]]:
    """The e-mails RT recorded sending to the ticket's requestors and Ccs (EmailRecord: a
    Correspond's; a Comment's to staff would be a CommentEmailRecord)."""
    return staff.http.get("/transactions", params={
        "query": f"ObjectType = 'RT::Ticket' AND ObjectId = {ticket} AND Type = 'EmailRecord'",
    }).json()["items"]


def test_a_note_arrives_as_a_comment_not_mailed_and_comes_back_as_one_entry(
        rt: RTServer, staff: RTStaff, cache: Cache) -> None:  # noqa: F811
    cid, conv, ticket = started(staff, cache, rt.url, "Note Nora")
    mailed_before = len(mailed(staff, ticket))
    entry_id = cache.add_reply(cid, conv, HOSTILE, "Desk Dana", note=True)
    report = sync(cache, rt.url)
    assert report.pushed == 1 and not cache.outbox.items()
    [(txn, author, text)] = messages(staff, ticket, "Comment")
    assert (author, text) == (USER, HOSTILE)  # from the desk's RT user, the text exact
    assert messages(staff, ticket, "Correspond") == []
    assert len(mailed(staff, ticket)) == mailed_before  # nothing went to the requestor
    mine = [e for e in entries(cache, cid) if e["body"] == HOSTILE]
    assert [(e["id"], e["direction"], e["channel"]) for e in mine] == [
        (f"rt-txn-{txn}", "internal", "note")]
    assert entry_id not in {e["id"] for e in entries(cache, cid)}
    again = sync(cache, rt.url)
    assert [e["id"] for e in entries(cache, cid) if e["body"] == HOSTILE] == [f"rt-txn-{txn}"]
    assert again.pushed == 0 and len(messages(staff, ticket, "Comment")) == 1


def test_a_reply_in_the_same_rt_is_mailed(rt: RTServer, staff: RTStaff,
                                          cache: Cache) -> None:  # noqa: F811
    """The control of the test above: this RT does record the e-mail of a Correspond, so a
    Comment recording none means RT kept it from the requestor."""
    cid, conv, ticket = started(staff, cache, rt.url, "Mailed Mona")
    mailed_before = len(mailed(staff, ticket))
    cache.add_reply(cid, conv, "this one is e-mailed", "Desk Dana")
    sync(cache, rt.url)
    assert len(mailed(staff, ticket)) == mailed_before + 1
