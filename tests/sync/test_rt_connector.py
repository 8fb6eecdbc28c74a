"""The Request Tracker connector's own mapping and edits, against a real RT 5 (the session's,
from scripts/rt-server): what RT's records become in the desk, and what the desk's edits
become in RT. The behaviours every remote shares are in tests/conformance/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdesk.cache.cache import Cache
from agentdesk.model import mutations
from agentdesk.model.protocol import MutationKind
from agentdesk.model.records import ContactKind, ContactPoint
from agentdesk.sync.client import AuthError
from agentdesk.sync.engine import SyncEngine
from agentdesk.sync.remote import RemoteStore, connect
from agentdesk.sync.rt import comments
from support.cache_reading import open_profile, timeline_of
from support.rt_world import PASSWORD, USER, RTServer, RTStaff, rt, staff  # noqa: F401 (fixtures)
from support.sync_world import fast_retry


@pytest.fixture
def remote(rt: RTServer) -> Iterator[RemoteStore]:  # noqa: F811
    with connect("rt+" + rt.url, user=USER, password=PASSWORD, retry=fast_retry()) as made:
        yield made


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache.open(tmp_path / "cache") as opened:
        yield opened


def timeline(cache: Cache, cid: str) -> list[dict]:
    t = timeline_of(cache, cid)
    return [e.model_dump(mode="json") for i in range(len(t.summary.chunk_sizes)) for e in t.chunk(i)]


def test_tickets_and_transactions_become_conversations_and_timeline_entries(
        staff: RTStaff, remote: RemoteStore, cache: Cache) -> None:  # noqa: F811
    uid = staff.user("Mapping Mia", Organization="Mia & Co", WorkPhone="+44 20 7946 0958",
                     Comments="Prefers e-mail.")
    ticket = staff.ticket(uid, "Broken widget", "It broke [bold]again[/bold]\x1b[31m")
    staff.correspond(ticket, "We are looking at it")
    staff.comment(ticket, "internal: ask the factory")
    staff.set_ticket(ticket, Status="resolved", Owner="root")
    SyncEngine(cache, remote, page_size=20).run()
    cid = f"rt-user-{uid}"
    profile = open_profile(cache, cid)[0]  # type: ignore[index]
    assert (profile.customer.name, profile.customer.company) == ("Mapping Mia", "Mia & Co")
    assert {(c.kind.value, c.label) for c in profile.contacts} == {("email", ""), ("phone", "work")}
    assert [n.text for n in profile.notes] == ["Prefers e-mail."]
    [conversation] = profile.conversations
    assert (conversation.topic, conversation.status.value, conversation.assignee) == ("General", "closed", "root")
    assert conversation.model_extra["subject"] == "Broken widget"
    entries = timeline(cache, cid)
    messages = [(e["direction"], e["channel"], e["body"]) for e in entries if e["body"]]
    assert messages == [
        ("outbound", "email", "It broke [bold]again[/bold]\x1b[31m"),  # created by staff for her
        ("outbound", "email", "We are looking at it"),
        ("internal", "note", "internal: ask the factory"),
    ]
    events = [e["subject"] for e in entries if not e["body"]]
    assert "Status: open → resolved" in events and "Owner: Nobody → root" in events


def test_a_message_from_a_requestor_is_inbound(staff: RTStaff, remote: RemoteStore,
                                                cache: Cache) -> None:  # noqa: F811
    """RT says who wrote a message, not which way it went: written by one of the ticket's
    requestors, it came in. (Staff's REST user stands in for a requestor writing by e-mail.)"""
    root = staff.get_user("root")  # type: ignore[arg-type]
    body = staff._ok(staff.http.post("/ticket", json={
        "Queue": "General", "Subject": "Own ticket", "Requestor": "root",
        "Content": "from the requestor", "ContentType": "text/plain"}))
    staff.correspond(int(body["id"]), "also from the requestor")
    SyncEngine(cache, remote).run()
    bodies = {e["body"]: e["direction"] for e in timeline(cache, f"rt-user-{root['id']}") if e["body"]}
    assert bodies["from the requestor"] == bodies["also from the requestor"] == "inbound"


def test_desk_notes_and_contacts_are_kept_in_rt_and_come_back_with_their_ids(
        staff: RTStaff, remote: RemoteStore, cache: Cache) -> None:  # noqa: F811
    uid = staff.user("Notes Nora", Comments="Staff wrote this.")
    cid = f"rt-user-{uid}"
    staff.ticket(uid, "Hi", "hello")
    SyncEngine(cache, remote).run()
    note = cache.add_note(cid, "-- agentdesk note {\"id\": \"forged\"}\nsecond line", author="Dana")
    profile = open_profile(cache, cid)[0]  # type: ignore[index]
    mobile = ContactPoint(kind=ContactKind.PHONE, value="+1 202 555 0143", label="mobile")
    cache.update_details(cid, name=profile.customer.name, company="Nora Ltd",
                         contacts=[*profile.contacts, mobile], base=profile)
    report = SyncEngine(cache, remote).run()
    assert report.rejected == 0 and report.conflicts == 0 and cache.outbox.counts().pending == 0
    user = staff.get_user(uid)
    assert (user["Organization"], user["MobilePhone"]) == ("Nora Ltd", "+1 202 555 0143")
    kept = comments.parse(user["Comments"])
    assert kept.staff == "Staff wrote this."
    assert [(n["id"], n["text"]) for n in kept.notes] == [(note.id, note.text)]
    assert kept.contact_ids == {"mobilephone": mobile.id}
    # Another desk sees the same records, under the same ids.
    with Cache.open(cache.root.parent / "other") as other:
        SyncEngine(other, remote).run()
        seen = open_profile(other, cid)[0]  # type: ignore[index]
        assert {n.id: n.text for n in seen.notes} == {f"{cid}-comments": "Staff wrote this.",
                                                      note.id: note.text}
        assert mobile.id in {c.id for c in seen.contacts}
    # Edited and deleted from the desk: gone from RT and, after a sync, from the other desk.
    cache.edit_note(cid, note.id, "changed")
    SyncEngine(cache, remote).run()
    assert comments.parse(staff.get_user(uid)["Comments"]).note(note.id)["text"] == "changed"  # type: ignore[index]
    cache.delete_note(cid, note.id)
    SyncEngine(cache, remote).run()
    assert comments.parse(staff.get_user(uid)["Comments"]).notes == []
    with Cache.open(cache.root.parent / "other") as other:
        SyncEngine(other, remote).run()
        assert [n.id for n in open_profile(other, cid)[0].notes] == [f"{cid}-comments"]  # type: ignore[index]


def test_what_rt_cannot_hold_is_rejected_with_a_reason(staff: RTStaff, remote: RemoteStore,
                                                       cache: Cache) -> None:  # noqa: F811
    uid = staff.user("Full Phones", WorkPhone="+1 202 555 0101", MobilePhone="+1 202 555 0102",
                     HomePhone="+1 202 555 0103", PagerPhone="+1 202 555 0104")
    cid = f"rt-user-{uid}"
    staff.ticket(uid, "Hi", "hello")
    SyncEngine(cache, remote).run()
    profile = open_profile(cache, cid)[0]  # type: ignore[index]
    fifth = ContactPoint(kind=ContactKind.PHONE, value="+1 202 555 0105", label="other")
    cache.update_details(cid, name=profile.customer.name, company="", contacts=[*profile.contacts, fifth],
                         base=profile)
    report = SyncEngine(cache, remote).run()
    assert report.rejected == 1
    [item] = [i for i in cache.outbox.items(cid) if i.status == "rejected"]
    assert "four phone numbers" in item.reason
    assert fifth.id not in {c.id for c in open_profile(cache, cid)[0].contacts}  # type: ignore[index]
    # Relationships and erasure have no place in RT at all: rejected, saying why.
    link = mutations.make(MutationKind.RELATIONSHIP_DELETE, cid, "rel_x", {"base": None}, None)
    erase = mutations.make(MutationKind.CUSTOMER_ERASE, cid, cid, {"confirm": "Full Phones"}, None)
    results = remote.push([link, erase]).results
    assert [r.status for r in results] == ["rejected", "rejected"]
    assert "RT has no relationships" in results[0].reason and "rt-shredder" in results[1].reason
    assert staff.get_user(uid)["RealName"] == "Full Phones"


def test_a_deleted_ticket_leaves_the_desk(staff: RTStaff, remote: RemoteStore, cache: Cache) -> None:  # noqa: F811
    uid = staff.user("Deleted Dora")
    keep, doomed = staff.ticket(uid, "Keep", "kept"), staff.ticket(uid, "Doomed", "doomed")
    SyncEngine(cache, remote).run()
    cid = f"rt-user-{uid}"
    assert len(open_profile(cache, cid)[0].conversations) == 2  # type: ignore[index]
    staff.set_ticket(doomed, Status="deleted")
    SyncEngine(cache, remote).run()
    assert [c.id for c in open_profile(cache, cid)[0].conversations] == [f"rt-ticket-{keep}"]  # type: ignore[index]


def test_a_password_login_is_one_session_and_an_ended_session_is_renewed(
        rt: RTServer, remote: RemoteStore) -> None:  # noqa: F811
    """RT hashes a Basic-auth password on every request (half a second each): the connector
    logs in once and sends the session's cookie; when RT ends the session it logs in again."""
    http = remote.http  # type: ignore[attr-defined]
    remote.status()
    remote.search("Mapping")
    assert http._session == 1
    http._http.cookies.clear()  # RT forgot the session (expired, RT restarted)
    remote.status()
    assert http._session == 2


def test_wrong_credentials_say_so_without_the_password(rt: RTServer) -> None:  # noqa: F811
    with connect("rt+" + rt.url, user=USER, password="not-the-password-xyz", retry=fast_retry()) as bad:
        with pytest.raises(AuthError) as raised:
            bad.status()
    assert "AGENTDESK_RT_USER" in str(raised.value) and "not-the-password-xyz" not in str(raised.value)


def test_comments_blocks_round_trip_whatever_the_note_says() -> None:
    tricky = comments.Comments(staff="by hand", notes=[
        {"id": "note_1", "text": "-- agentdesk contacts {\"email\": \"x\"}\n\\backslash\nplain",
         "author": "A; B", "created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z"}],
        contact_ids={"workphone": "cp_1"})
    again = comments.parse(comments.render(tricky))
    assert again == tricky


def test_a_merged_ticket_moves_into_the_surviving_conversation(staff: RTStaff, remote: RemoteStore,
                                                                cache: Cache) -> None:  # noqa: F811
    uid = staff.user("Merging Max")
    cid = f"rt-user-{uid}"
    gone, kept = staff.ticket(uid, "Twice", "first report"), staff.ticket(uid, "Twice again", "second")
    staff.correspond(gone, "reply on the first")
    SyncEngine(cache, remote).run()
    staff.set_ticket(gone, MergeInto=kept)
    SyncEngine(cache, remote).run()
    profile = open_profile(cache, cid)[0]  # type: ignore[index]
    assert [c.id for c in profile.conversations] == [f"rt-ticket-{kept}"]
    where = {e["body"]: e["conversation_id"] for e in timeline(cache, cid) if e["body"]}
    assert where == {"first report": f"rt-ticket-{kept}", "reply on the first": f"rt-ticket-{kept}",
                     "second": f"rt-ticket-{kept}"}


def test_a_conversations_status_and_assignee_go_to_its_ticket(
        staff: RTStaff, remote: RemoteStore, cache: Cache) -> None:  # noqa: F811
    uid = staff.user("Ticket Tess")
    ticket = staff.ticket(uid, "Cannot log in", "Help me log in")
    SyncEngine(cache, remote, page_size=20).run()
    cid, conv = f"rt-user-{uid}", f"rt-ticket-{ticket}"
    cache.update_conversation(cid, conv, status="pending", assignee="root")
    report = SyncEngine(cache, remote, page_size=20).run()
    assert report.pushed == 1 and not cache.outbox.items()
    rt_ticket = staff.http.get(f"/ticket/{ticket}").json()
    assert rt_ticket["Status"] == "stalled" and rt_ticket["Owner"]["id"] == "root"
    [back] = open_profile(cache, cid)[0].conversations  # type: ignore[index]
    assert (back.status.value, back.assignee) == ("pending", "root")
    # RT's staff changed the status meanwhile: the desk's change conflicts, RT's value stays;
    # a reply is no edit of the ticket's fields, and lands all the same.
    cache.update_conversation(cid, conv, status="closed")
    cache.add_reply(cid, conv, "We reset it", "root")
    staff.set_ticket(ticket, Status="open")
    report = SyncEngine(cache, remote, page_size=20).run()
    [item] = cache.outbox.items()
    assert item.status == "conflict" and item.conflicts == ["status"]
    assert staff.http.get(f"/ticket/{ticket}").json()["Status"] == "open"
    replies = staff.http.get("/transactions", params={
        "query": f"ObjectType = 'RT::Ticket' AND ObjectId = {ticket} AND Type = 'Correspond'"}).json()
    assert replies["count"] == 1
    # What RT has no place for is rejected, saying so.
    cache.resolve(item.mutation.id, keep=False)
    cache.update_conversation(cid, conv, priority="urgent")
    SyncEngine(cache, remote, page_size=20).run()
    [item] = cache.outbox.items()
    assert "RT has no place" in item.reason and "priority" in item.reason
