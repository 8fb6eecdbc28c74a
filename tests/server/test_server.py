"""The reference remote store over real HTTP: a real store (SQLite on disk, and PostgreSQL in
a throwaway cluster: every test that takes `remote` or `make_store` runs on both), uvicorn,
httpx.

No mocks: each test talks to a `ServerThread` on 127.0.0.1 the way a desk would.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from agentdesk.model import demo
from agentdesk.model.digest import digest
from agentdesk.model.records import ContactKind, ContactPoint, Customer, Note, Profile, TimelineEntry
from agentdesk.model.protocol import MAX_PAGE, PROTOCOL_VERSION, FeedPage, ProfileSnapshot
from agentdesk.server.app import create_app, openapi_text
from agentdesk.server.run import ServerThread, open_store, seed_demo
from agentdesk.server.postgres_store import PostgresStore
from agentdesk.server.store import Store

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-" + "k" * 24
SCOPED = "scoped-token-" + "s" * 24
EPOCH = demo.EPOCH.isoformat()


@dataclass
class Remote:
    store: Store
    url: str
    client: httpx.Client

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params)

    def feed(self, cursor: str = "", limit: int = 500, token: str = TOKEN) -> FeedPage:
        r = self.client.get("/v1/changes", params={"cursor": cursor, "limit": limit},
                            headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        return FeedPage.model_validate(r.json())

    def all_changes(self, cursor: str = "", limit: int = 500, token: str = TOKEN) -> tuple[list[Any], str]:
        changes = []
        while True:
            page = self.feed(cursor, limit, token)
            changes += page.changes
            cursor = page.next_cursor
            if not page.more:
                return changes, cursor

    def mutate(self, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
        r = self.client.post("/v1/mutations", json={"mutations": list(mutations)})
        assert r.status_code == 200, r.text
        return r.json()["results"]


def small_profile(cid: str, name: str, email: str = "", phone: str = "") -> tuple[Profile, list[TimelineEntry]]:
    contacts = []
    if email:
        contacts.append(ContactPoint(id=f"cp_{cid}_e", kind=ContactKind.EMAIL, value=email, primary=True))
    if phone:
        contacts.append(ContactPoint(id=f"cp_{cid}_p", kind=ContactKind.PHONE, value=phone, primary=True))
    customer = Customer(id=cid, name=name, company="Acme", created=demo.EPOCH, updated=demo.EPOCH)
    note = Note(id=f"note_{cid}", text=f"{name} likes tea", author="Sam", created=demo.EPOCH,
                updated=demo.EPOCH)
    entry = TimelineEntry(id=f"ent_{cid}", conversation_id="conv_x", at=demo.EPOCH, channel="chat",
                          direction="inbound", body=f"Hello from {name}")
    return Profile(customer=customer, contacts=contacts, notes=[note]), [entry]


@pytest.fixture
def remote(make_store: Callable[[], Store]) -> Iterator[Remote]:
    store = make_store()
    store.add_token(TOKEN, "alice")
    store.add_token(SCOPED, "bob", scoped=True)
    store.bulk_load([
        small_profile("cus_a", "Ada Lovelace", "ada@example.com", "+1 555 123 4567"),
        small_profile("cus_b", "Bruno Silva", "bruno@example.com"),
        small_profile("cus_c", "Chiara Rossi", "chiara@example.com"),
    ])
    with ServerThread(store) as server, httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        yield Remote(store, server.url, client)


def note_add(mid: str, cid: str, nid: str, text: str) -> dict[str, Any]:
    note = Note(id=nid, text=text, author="Sam", created=demo.EPOCH, updated=demo.EPOCH)
    return {"id": mid, "kind": "note.add", "customer_id": cid, "target": nid,
            "data": note.model_dump(mode="json")}


# --- auth --------------------------------------------------------------------------------

def test_missing_or_unknown_token_is_401_and_never_echoed(remote: Remote, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "guess-" + "z" * 30
    for headers in ({}, {"Authorization": f"Bearer {secret}"}, {"Authorization": f"Basic {secret}"}):
        r = httpx.get(f"{remote.url}/v1/changes", headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"] == "missing or invalid token"
        assert r.json()["epoch"] == remote.store.epoch()
        assert secret not in r.text
    assert remote.get("/v1/status").status_code == 200
    assert TOKEN not in caplog.text and secret not in caplog.text


def test_token_is_not_in_the_access_log_or_the_database(make_store: Callable[[], Store], tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    store = make_store()
    store.add_token(TOKEN, "alice")
    with ServerThread(store, log_level="info", access_log=True) as server:
        assert httpx.get(f"{server.url}/v1/status", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert "/v1/status" in caplog.text  # the access log did record the request
    assert TOKEN not in caplog.text
    assert leftovers(store, tmp_path, TOKEN.encode()) == []
    assert leftovers(store, tmp_path, b"alice")  # (the check does find what is there)


def test_revoked_token_is_403(remote: Remote) -> None:
    assert remote.store.revoke_token(TOKEN)
    r = remote.get("/v1/changes")
    assert r.status_code == 403
    assert r.json()["error"] == "token revoked"
    assert TOKEN not in r.text


def test_store_files_are_private(tmp_path: Path, permissive_umask: None) -> None:
    store = open_store(tmp_path / "srv")
    store.add_token(TOKEN, "alice")
    store.close()
    assert stat.S_IMODE((tmp_path / "srv").stat().st_mode) == 0o700
    for path in (tmp_path / "srv").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


# --- feed --------------------------------------------------------------------------------

def test_status_and_digest(remote: Remote) -> None:
    status = remote.get("/v1/status").json()
    assert status == {"epoch": remote.store.epoch(), "head": remote.store.head(), "protocol": PROTOCOL_VERSION}
    before = remote.get("/v1/digest").json()
    assert before["epoch"] == status["epoch"]
    changes, _ = remote.all_changes()
    assert before["digest"] == digest((c.type, c.id, c.customer_id, c.data) for c in changes)
    remote.mutate(note_add("m1", "cus_a", "note_new", "new"))
    assert remote.get("/v1/digest").json()["digest"] != before["digest"]


def test_feed_pages_deliver_every_record_exactly_once(remote: Remote) -> None:
    seed_demo(remote.store, customers=20, big_entries=300)
    everything = remote.feed(limit=MAX_PAGE)
    assert not everything.more
    changes, cursor = remote.all_changes(limit=37)
    assert [(c.type, c.id) for c in changes] == [(c.type, c.id) for c in everything.changes]
    assert len({(c.type, c.id) for c in changes}) == len(changes)
    seqs = [c.seq for c in changes]
    assert seqs == sorted(seqs) and all(c.revision == c.seq for c in changes)
    # The cursor is opaque to the desk, and an empty page keeps it where it was.
    empty = remote.feed(cursor)
    assert empty.changes == [] and not empty.more and empty.next_cursor == cursor
    remote.mutate(note_add("m1", "cus_b", "note_later", "later"))
    page = remote.feed(cursor)
    assert [(c.op, c.type, c.id) for c in page.changes] == [("upsert", "note", "note_later")]


def test_feed_is_compacted(remote: Remote) -> None:
    _, cursor = remote.all_changes()
    for text in ("one", "two", "three"):
        remote.store.upsert("note", {"id": "note_cus_a", "text": text, "author": "Sam",
                                     "created": EPOCH, "updated": EPOCH}, "cus_a")
    changes = remote.feed(cursor).changes
    assert [(c.id, c.data["text"]) for c in changes] == [("note_cus_a", "three")]


def test_limit_is_capped(remote: Remote) -> None:
    r = remote.get("/v1/changes", limit=MAX_PAGE * 10)
    assert r.status_code == 200
    assert remote.get("/v1/changes", limit=0).status_code == 422


@pytest.mark.parametrize("cursor", [
    "not-a-cursor!", base64.urlsafe_b64encode(b"otherepoch:1").decode(), "",
])
def test_bad_foreign_or_ahead_cursor_is_410(remote: Remote, cursor: str) -> None:
    epoch = remote.store.epoch()
    if not cursor:  # a cursor past the head: the store was restored from an older backup
        cursor = base64.urlsafe_b64encode(f"{epoch}:{remote.store.head() + 1}".encode()).decode()
    r = remote.get("/v1/changes", cursor=cursor)
    assert r.status_code == 410
    assert r.json()["epoch"] == epoch and r.json()["error"]


def test_reset_epoch_voids_cursors(remote: Remote) -> None:
    _, cursor = remote.all_changes()
    remote.store.reset_epoch()
    assert remote.get("/v1/changes", cursor=cursor).status_code == 410


# --- tombstones, erase, merge ------------------------------------------------------------

def test_tombstones_carry_no_data_except_entry_time(remote: Remote) -> None:
    _, cursor = remote.all_changes()
    remote.store.delete("note", "note_cus_a")
    remote.store.delete("entry", "ent_cus_a")
    remote.store.delete("contact", "cp_cus_a_e")
    changes = {c.id: c for c in remote.feed(cursor).changes}
    assert changes["note_cus_a"].op == "delete" and changes["note_cus_a"].data is None
    assert changes["cp_cus_a_e"].op == "delete" and changes["cp_cus_a_e"].data is None
    assert changes["ent_cus_a"].op == "delete" and changes["ent_cus_a"].data == {"at": "2026-01-05T09:00:00Z"}
    assert all(c.customer_id == "cus_a" for c in changes.values())
    # A desk starting from scratch gets the tombstones too, and search forgets the address.
    assert "note_cus_a" in {c.id for c in remote.all_changes()[0] if c.op == "delete"}
    assert remote.get("/v1/search", q="ada@example").json()["hits"] == []


def test_erase_leaves_no_personal_data(remote: Remote, tmp_path: Path) -> None:
    remote.store.upsert("relationship", {"id": "rel_b_a", "customer_id": "cus_a", "label": "spouse",
                                         "name": "Ada Lovelace"}, "cus_b")
    remote.mutate(note_add("m-erase", "cus_a", "note_x", "Ada's secret"))
    _, cursor = remote.all_changes()
    remote.store.erase_customer("cus_a")
    page = remote.feed(cursor).changes
    assert [(c.op, c.type, c.id, c.customer_id, c.data) for c in page] == [
        ("delete", "relationship", "rel_b_a", "cus_b", None),
        ("delete", "customer", "cus_a", "cus_a", None),
    ]
    everything = remote.all_changes()[0]
    text = json.dumps([c.model_dump(mode="json") for c in everything])
    for personal in ("Ada", "Lovelace", "ada@example.com", "555 123", "Lovelace likes tea", "secret"):
        assert personal not in text
    assert remote.get("/v1/customers/cus_a").status_code == 404
    assert remote.get("/v1/search", q="ada").json()["hits"] == []
    # Later mutations for the customer are rejected, and a replay does not bring data back.
    results = remote.mutate(note_add("m-erase", "cus_a", "note_x", "Ada's secret"))
    assert results[0]["status"] == "rejected"
    assert results[0]["reason"] == "customer cus_a no longer exists"
    assert leftovers(remote.store, tmp_path, b"Lovelace") == []


def leftovers(store: Store, tmp_path: Path, text: bytes) -> list[str]:
    """Where the database still holds `text`. SQLite: in its files on disk (secure_delete,
    WAL checkpointed). PostgreSQL: in any tuple, live or dead, of the store's tables and
    their TOAST tables, read page by page with pageinspect (freed space in a page and WAL
    segments are overwritten as the database reuses them; see docs/sync-protocol.md)."""
    if not isinstance(store, PostgresStore):
        return [str(p) for p in (tmp_path / "server").iterdir() if text in p.read_bytes()]
    with psycopg.connect(store.url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        return [f"{name} block {block}" for name, block in conn.execute("""
            WITH ours AS (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace
                            AND relkind = 'r'),
                 rels AS (SELECT oid FROM ours UNION
                          SELECT reltoastrelid FROM pg_class WHERE oid IN (SELECT oid FROM ours)
                            AND reltoastrelid != 0)
            SELECT DISTINCT r.oid::regclass::text, b FROM rels r,
                   generate_series(0, pg_relation_size(r.oid) / 8192 - 1) b,
                   heap_page_items(get_raw_page(r.oid::regclass::text, b::int)) t
             WHERE position(%s::bytea in t.t_data) > 0""", (text,))]


def test_merge_moves_records_and_redirects(remote: Remote) -> None:
    remote.store.upsert("relationship", {"id": "rel_c_a", "customer_id": "cus_a", "label": "friend"}, "cus_c")
    remote.store.upsert("relationship", {"id": "rel_a_c", "customer_id": "cus_c", "label": "friend"}, "cus_a")
    remote.store.upsert("relationship", {"id": "rel_a_b", "customer_id": "cus_b", "label": "self"}, "cus_a")
    _, cursor = remote.all_changes()
    remote.store.merge_customers("cus_a", "cus_b")
    page = remote.feed(cursor)
    changes, after_merge = page.changes, page.next_cursor
    assert changes[-1].op == "merge" and changes[-1].type == "customer"
    assert (changes[-1].id, changes[-1].customer_id, changes[-1].data) == ("cus_a", "cus_a", {"into": "cus_b"})
    moved = {c.id: c for c in changes[:-1] if c.op == "upsert"}
    assert {"cp_cus_a_e", "cp_cus_a_p", "note_cus_a", "ent_cus_a", "rel_a_c"} <= set(moved)
    assert all(moved[i].customer_id == "cus_b" for i in ("cp_cus_a_e", "note_cus_a", "ent_cus_a", "rel_a_c"))
    assert moved["rel_c_a"].customer_id == "cus_c"
    assert moved["rel_c_a"].data["customer_id"] == "cus_b" and moved["rel_c_a"].data["name"] == "Bruno Silva"
    assert {(c.op, c.id) for c in changes} >= {("delete", "rel_a_b")}  # would link cus_b to itself
    # Profile of the merged id points to where it went; the target has everything.
    r = remote.get("/v1/customers/cus_a")
    assert r.status_code == 404 and r.json()["merged_into"] == "cus_b"
    snapshot = ProfileSnapshot.model_validate(remote.get("/v1/customers/cus_b").json())
    assert {"note_cus_a", "note_cus_b", "ent_cus_a"} <= {c.id for c in snapshot.changes}
    # Mutations naming the merged customer land in the target.
    results = remote.mutate(note_add("m1", "cus_a", "note_after_merge", "hi"),
                            {"id": "m2", "kind": "customer.update", "customer_id": "cus_a", "target": "cus_a",
                             "data": {"set": {"company": "Merged Co"}, "base": {"company": "Acme"}}})
    assert [r["status"] for r in results] == ["applied", "applied"]
    page = remote.feed(after_merge).changes
    assert {(c.type, c.id, c.customer_id) for c in page} == {
        ("note", "note_after_merge", "cus_b"), ("customer", "cus_b", "cus_b")}
    assert remote.get("/v1/search", q="Lovelace").json()["hits"] == []
    assert [h["id"] for h in remote.get("/v1/search", q="ada@example").json()["hits"]] == ["cus_b"]


def test_merge_chains_are_followed(remote: Remote) -> None:
    remote.store.merge_customers("cus_a", "cus_b")
    remote.store.merge_customers("cus_b", "cus_c")
    assert remote.get("/v1/customers/cus_a").json()["merged_into"] == "cus_c"
    result = remote.mutate(note_add("m1", "cus_a", "note_chain", "x"))[0]
    assert result["status"] == "applied"
    snapshot = ProfileSnapshot.model_validate(remote.get("/v1/customers/cus_c").json())
    assert "note_chain" in {c.id for c in snapshot.changes}


# --- scope -------------------------------------------------------------------------------

def test_scoped_agent_sees_only_its_customers_and_scope_changes(remote: Remote) -> None:
    assert remote.all_changes(token=SCOPED)[0] == []
    remote.store.set_scope("bob", ["cus_a", "cus_b"])
    changes, cursor = remote.all_changes(token=SCOPED)
    includes = [(c.op, c.id, c.customer_id) for c in changes if c.op == "include"]
    assert includes == [("include", "cus_a", "cus_a"), ("include", "cus_b", "cus_b")]
    assert {c.customer_id for c in changes} == {"cus_a", "cus_b"}
    remote.store.set_scope("bob", ["cus_b"])
    remote.mutate(note_add("m1", "cus_a", "note_a2", "hidden"), note_add("m2", "cus_b", "note_b2", "seen"))
    page = remote.feed(cursor, token=SCOPED).changes
    assert [(c.op, c.id) for c in page] == [("evict", "cus_a"), ("upsert", "note_b2")]
    # The unscoped agent sees everything and no scope changes.
    assert not [c for c in remote.all_changes()[0] if c.op in ("include", "evict")]


def test_profile_fetch_by_scoped_agent_adds_to_scope(remote: Remote) -> None:
    _, cursor = remote.all_changes(token=SCOPED)
    hits = remote.client.get("/v1/search", params={"q": "chiara"},
                             headers={"Authorization": f"Bearer {SCOPED}"}).json()["hits"]
    assert [h["id"] for h in hits] == ["cus_c"]  # scoped agents search everything
    r = remote.client.get("/v1/customers/cus_c", headers={"Authorization": f"Bearer {SCOPED}"})
    assert r.status_code == 200
    page = remote.feed(cursor, token=SCOPED)
    # The include comes last; the customer's records may come too (the cursor had not moved).
    assert [(c.op, c.id) for c in page.changes][-1] == ("include", "cus_c")
    assert {c.customer_id for c in page.changes} == {"cus_c"}
    remote.mutate(note_add("m1", "cus_c", "note_c2", "now visible"))
    assert [c.id for c in remote.feed(page.next_cursor, token=SCOPED).changes] == ["note_c2"]


def test_merge_brings_target_into_scope(remote: Remote) -> None:
    remote.store.set_scope("bob", ["cus_a"])
    _, cursor = remote.all_changes(token=SCOPED)
    remote.store.merge_customers("cus_a", "cus_c")
    page = remote.feed(cursor, token=SCOPED).changes
    assert page[-1].op == "merge"
    assert ("include", "cus_c") in [(c.op, c.id) for c in page]


# --- profile and search ------------------------------------------------------------------

def test_profile_snapshot(remote: Remote) -> None:
    snapshot = ProfileSnapshot.model_validate(remote.get("/v1/customers/cus_a").json())
    assert snapshot.epoch == remote.store.epoch() and snapshot.customer_id == "cus_a"
    assert snapshot.changes[0].type == "customer" and snapshot.changes[0].data["name"] == "Ada Lovelace"
    assert [c.seq for c in snapshot.changes[1:]] == sorted(c.seq for c in snapshot.changes[1:])
    assert {c.type for c in snapshot.changes} == {"customer", "contact", "note", "entry"}
    assert all(c.op == "upsert" and c.customer_id == "cus_a" for c in snapshot.changes)
    missing = remote.get("/v1/customers/cus_nobody")
    assert missing.status_code == 404 and missing.json()["epoch"] == snapshot.epoch


@pytest.mark.parametrize(("q", "ids"), [
    ("ada", ["cus_a"]), ("LOVELACE", ["cus_a"]), ("acme", ["cus_a", "cus_b", "cus_c"]),
    ("bruno@example", ["cus_b"]), ("5551234", ["cus_a"]), ("555-123-4567", ["cus_a"]),
    ("cus_c", ["cus_c"]), ("nobody", []), ("", []),
])
def test_search(remote: Remote, q: str, ids: list[str]) -> None:
    r = remote.get("/v1/search", q=q)
    assert r.status_code == 200 and r.json()["epoch"] == remote.store.epoch()
    assert sorted(h["id"] for h in r.json()["hits"]) == ids


def test_search_hit_fields(remote: Remote) -> None:
    assert remote.get("/v1/search", q="ada").json()["hits"] == [{
        "id": "cus_a", "name": "Ada Lovelace", "email": "ada@example.com",
        "phone": "+1 555 123 4567", "company": "Acme"}]


# --- mutations ---------------------------------------------------------------------------

def test_note_add_is_idempotent(remote: Remote) -> None:
    batch = [note_add("m1", "cus_a", "note_n1", "first"), note_add("m2", "cus_a", "note_n2", "second")]
    first = remote.mutate(*batch)
    head = remote.store.head()
    again = remote.mutate(*batch)
    assert first == again and [r["status"] for r in first] == ["applied", "applied"]
    assert remote.store.head() == head  # nothing re-applied
    # The same note under a new mutation id is not duplicated either.
    assert remote.mutate(note_add("m3", "cus_a", "note_n1", "first"))[0]["status"] == "applied"
    notes = [c for c in remote.all_changes()[0] if c.type == "note" and c.id == "note_n1"]
    assert len(notes) == 1 and notes[0].revision == first[0]["revision"]


def test_note_add_keeps_both_sides(remote: Remote) -> None:
    results = remote.mutate(note_add("m1", "cus_a", "note_desk1", "from desk 1"),
                            note_add("m2", "cus_a", "note_desk2", "from desk 2"))
    assert [r["status"] for r in results] == ["applied", "applied"]
    snapshot = ProfileSnapshot.model_validate(remote.get("/v1/customers/cus_a").json())
    assert {"note_cus_a", "note_desk1", "note_desk2"} <= {c.id for c in snapshot.changes}


def test_note_add_rejects_bad_note(remote: Remote) -> None:
    bad = note_add("m1", "cus_a", "note_bad", "x")
    del bad["data"]["text"]
    result = remote.mutate(bad)[0]
    assert result["status"] == "rejected" and "text" in result["reason"]
    mismatch = note_add("m2", "cus_a", "note_one", "x")
    mismatch["target"] = "note_other"
    assert remote.mutate(mismatch)[0]["status"] == "rejected"


def edit(mid: str, nid: str, new: str, old: str, base_revision: int | None = None) -> dict[str, Any]:
    return {"id": mid, "kind": "note.edit", "customer_id": "cus_a", "target": nid,
            "base_revision": base_revision, "data": {"set": {"text": new}, "base": {"text": old}}}


def test_note_edit(remote: Remote) -> None:
    applied = remote.mutate(edit("m1", "note_cus_a", "likes coffee", "Ada Lovelace likes tea"))[0]
    assert applied["status"] == "applied" and applied["revision"] == remote.store.head()
    # Someone else edits it meanwhile: the desk's edit based on the old text conflicts.
    conflict = remote.mutate(edit("m2", "note_cus_a", "likes juice", "Ada Lovelace likes tea"))[0]
    assert conflict["status"] == "conflict" and conflict["conflicts"] == ["text"]
    assert conflict["current"]["text"] == "likes coffee" and conflict["revision"] == applied["revision"]
    # Based on the current revision: applied.
    by_revision = remote.mutate(edit("m3", "note_cus_a", "likes juice", "whatever", applied["revision"]))[0]
    assert by_revision["status"] == "applied"
    # Already the new text: applied without a write.
    head = remote.store.head()
    assert remote.mutate(edit("m4", "note_cus_a", "likes juice", "stale"))[0]["status"] == "applied"
    assert remote.store.head() == head
    remote.store.delete("note", "note_cus_a")
    gone = remote.mutate(edit("m5", "note_cus_a", "x", "likes juice"))[0]
    assert gone == {"id": "m5", "status": "rejected", "revision": None, "current": None,
                    "conflicts": [], "reason": "the note was deleted", "written": {}}


def test_note_delete(remote: Remote) -> None:
    remote.mutate(note_add("m0", "cus_a", "note_d", "to delete"), note_add("m00", "cus_a", "note_e", "edited"))
    ok = remote.mutate({"id": "m1", "kind": "note.delete", "customer_id": "cus_a", "target": "note_d",
                        "data": {"base": {"text": "to delete"}}})[0]
    assert ok["status"] == "applied"
    again = remote.mutate({"id": "m2", "kind": "note.delete", "customer_id": "cus_a", "target": "note_d",
                           "base_revision": 1})[0]
    assert again["status"] == "applied"  # already gone
    remote.mutate(edit("m3", "note_e", "edited twice", "edited"))
    conflict = remote.mutate({"id": "m4", "kind": "note.delete", "customer_id": "cus_a", "target": "note_e",
                              "base_revision": 1, "data": {"base": {"text": "edited"}}})[0]
    assert conflict["status"] == "conflict" and conflict["current"]["text"] == "edited twice"
    assert conflict["conflicts"] == ["text"]
    snapshot = ProfileSnapshot.model_validate(remote.get("/v1/customers/cus_a").json())
    ids = {c.id for c in snapshot.changes}
    assert "note_e" in ids and "note_d" not in ids


def update(mid: str, set_: dict[str, Any], base: dict[str, Any], cid: str = "cus_a") -> dict[str, Any]:
    return {"id": mid, "kind": "customer.update", "customer_id": cid, "target": cid,
            "data": {"set": set_, "base": base}}


def test_customer_update_merges_fields(remote: Remote) -> None:
    ok = remote.mutate(update("m1", {"name": "Ada King", "tags": ["vip"]}, {"name": "Ada Lovelace", "tags": []}))[0]
    assert ok["status"] == "applied"
    # A second desk edited name and company from the old values: company applies, name conflicts.
    mixed = remote.mutate(update("m2", {"name": "A. Lovelace", "company": "Analytical"},
                                 {"name": "Ada Lovelace", "company": "Acme"}))[0]
    assert mixed["status"] == "conflict" and mixed["conflicts"] == ["name"]
    assert mixed["current"]["name"] == "Ada King" and mixed["current"]["company"] == "Analytical"
    assert mixed["revision"] > ok["revision"]
    customer = ProfileSnapshot.model_validate(remote.get("/v1/customers/cus_a").json()).changes[0]
    assert customer.data["name"] == "Ada King" and customer.data["company"] == "Analytical"
    assert customer.data["tags"] == ["vip"] and customer.revision == mixed["revision"]
    assert [h["id"] for h in remote.get("/v1/search", q="analytical").json()["hits"]] == ["cus_a"]


@pytest.mark.parametrize(("set_", "words"), [
    ({"name": "  "}, "name"), ({"status": "royalty"}, "status"), ({"id": "cus_z"}, "cannot set"),
])
def test_customer_update_rejects_invalid(remote: Remote, set_: dict[str, Any], words: str) -> None:
    head = remote.store.head()
    result = remote.mutate(update("m1", {**set_, "company": "New"}, {"company": "Acme"}))[0]
    assert result["status"] == "rejected" and words in result["reason"]
    assert remote.store.head() == head


def contact(mid: str, set_: dict[str, Any], base: dict[str, Any] | None, cid: str = "cus_a") -> dict[str, Any]:
    return {"id": mid, "kind": "contact.upsert", "customer_id": cid, "target": set_["id"],
            "data": {"set": set_, "base": base}}


def test_contact_upsert(remote: Remote) -> None:
    new = {"id": "cp_new", "kind": "email", "value": "Ada@EXAMPLE.org", "label": "home", "primary": False}
    added = remote.mutate(contact("m1", new, None))[0]
    assert added["status"] == "applied"
    stored = {c.id: c.data for c in remote.all_changes()[0]}["cp_new"]
    assert stored["value"] == "Ada@example.org"  # normalized by the domain model
    assert [h["id"] for h in remote.get("/v1/search", q="ada@example.org").json()["hits"]] == ["cus_a"]
    base = dict(stored)
    label = remote.mutate(contact("m2", {**base, "label": "personal"}, base))[0]
    assert label["status"] == "applied"
    both = remote.mutate(contact("m3", {**base, "label": "other", "primary": True}, base))[0]
    assert both["status"] == "conflict" and both["conflicts"] == ["label"]
    assert both["current"]["primary"] is True and both["current"]["label"] == "personal"
    bad = remote.mutate(contact("m4", {"id": "cp_bad", "kind": "email", "value": "not-an-address"}, None))[0]
    assert bad["status"] == "rejected" and "e-mail" in bad["reason"]
    phone = remote.mutate(contact("m5", {"id": "cp_bad2", "kind": "phone", "value": "12"}, None))[0]
    assert phone["status"] == "rejected" and "digits" in phone["reason"]
    remote.store.delete("contact", "cp_new")
    gone = remote.mutate(contact("m6", {**base, "label": "x"}, base))[0]
    assert gone["status"] == "conflict" and gone["conflicts"] == ["deleted"] and gone["current"] is None


def test_contact_delete(remote: Remote) -> None:
    cp = {c.id: c.data for c in remote.all_changes()[0]}
    base_e, base_p = cp["cp_cus_a_e"], cp["cp_cus_a_p"]
    ok = remote.mutate({"id": "m1", "kind": "contact.delete", "customer_id": "cus_a", "target": "cp_cus_a_e",
                        "data": {"base": base_e}})[0]
    assert ok["status"] == "applied"
    assert remote.mutate({"id": "m2", "kind": "contact.delete", "customer_id": "cus_a", "target": "cp_cus_a_e",
                          "data": {"base": base_e}})[0]["status"] == "applied"
    remote.mutate(contact("m3", {**base_p, "label": "work"}, base_p))
    conflict = remote.mutate({"id": "m4", "kind": "contact.delete", "customer_id": "cus_a",
                              "target": "cp_cus_a_p", "data": {"base": base_p}})[0]
    assert conflict["status"] == "conflict" and conflict["conflicts"] == ["label"]
    assert conflict["current"]["label"] == "work"


def test_mutation_for_unknown_customer_is_rejected(remote: Remote) -> None:
    result = remote.mutate(note_add("m1", "cus_gone", "note_z", "x"))[0]
    assert result == {"id": "m1", "status": "rejected", "revision": None, "current": None,
                      "conflicts": [], "reason": "customer cus_gone no longer exists",
                      "written": {}}


def test_invalid_batch_is_422_without_echo(remote: Remote) -> None:
    r = remote.client.post("/v1/mutations", json={"mutations": [{"id": "m1", "kind": "note.explode",
                                                                 "customer_id": "c", "target": "secret-value"}]})
    assert r.status_code == 422 and r.json()["epoch"] == remote.store.epoch()
    assert "secret-value" not in r.text
    too_many = [note_add(f"m{i}", "cus_a", f"note_{i}", "x") for i in range(201)]
    assert remote.client.post("/v1/mutations", json={"mutations": too_many}).status_code == 422


# --- schema, seeding, running ------------------------------------------------------------

def test_openapi_is_published_with_bearer_auth(remote: Remote) -> None:
    schema = httpx.get(f"{remote.url}/openapi.json").json()
    assert {"/v1/status", "/v1/changes", "/v1/customers/{customer_id}", "/v1/search",
            "/v1/mutations", "/v1/digest"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert schema["paths"]["/v1/changes"]["get"]["security"] == [{"HTTPBearer": []}]
    ok = schema["paths"]["/v1/changes"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/FeedPage"}
    assert "410" in schema["paths"]["/v1/changes"]["get"]["responses"]


def test_docs_openapi_json_is_current(remote: Remote) -> None:
    published = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert published == create_app(remote.store).openapi(), (
        "docs/openapi.json is stale; regenerate it with: "
        "python -m agentdesk.server.app docs/openapi.json")
    assert (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8") == openapi_text()


def test_demo_seed(make_store: Callable[[], Store]) -> None:
    store = make_store()
    store.add_token(TOKEN, "alice")
    assert store.is_empty()
    count = seed_demo(store, customers=30, big_entries=500)
    assert count == 34 and not store.is_empty()  # 30, the big one, everything, activity, hostile
    items = list(demo.generate(customers=30, big_entries=500))
    with ServerThread(store) as server, httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        remote = Remote(store, server.url, client)
        changes, _ = remote.all_changes(limit=MAX_PAGE)
        expected = {("customer", p.customer.id) for p, _ in items}
        for p, es in items:
            for kind, records in (("contact", p.contacts), ("relationship", p.relationships),
                                  ("note", p.notes), ("conversation", p.conversations), ("entry", es),
                                  ("field", p.fields), ("identifier", p.identifiers),
                                  ("subscription", p.subscriptions), ("segment", p.segments)):
                expected |= {(kind, r.id) for r in records}
        assert sorted((c.type.value, c.id) for c in changes) == sorted(expected)
        big = ProfileSnapshot.model_validate(client.get(f"/v1/customers/{demo.BIG_ID}").json())
        assert sum(c.type == "entry" for c in big.changes) == 500
        hostile = ProfileSnapshot.model_validate(client.get(f"/v1/customers/{demo.HOSTILE_ID}").json())
        assert hostile.changes[0].data == items[-1][0].customer.model_dump(mode="json")
        rel = next(c for c in changes if c.id == "rel_0_big")
        assert rel.data["name"] == "Beatrix Longhistory"  # filled in, as demo.dataset does
        # Every record's data is exactly the domain model's JSON dump.
        entries = {e.id: e for _, es in items for e in es}
        for change in changes:
            if change.type == "entry":
                assert change.data == entries[change.id].model_dump(mode="json")


def test_serve_command_prints_the_token_once(tmp_path: Path) -> None:
    """`agentdesk serve` on a fresh store makes a token, prints it once, and serves with it."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "AGENTDESK_SERVER_TOKEN"}
    proc = subprocess.Popen([sys.executable, "-m", "agentdesk.cli", "serve", "--data",
                             str(tmp_path / "srv"), "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = []
        while not any("Serving" in line for line in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        token = next(line.split("AGENTDESK_TOKEN=")[1].split()[0] for line in lines if "AGENTDESK_TOKEN=" in line)
        assert f"agentdesk --remote http://127.0.0.1:{port}" in "".join(lines)
        for _ in range(100):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/status", headers={"Authorization": f"Bearer {token}"})
                break
            except httpx.ConnectError:
                import time
                time.sleep(0.05)
        assert r.status_code == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    assert token not in out + err
    assert stat.S_IMODE((tmp_path / "srv").stat().st_mode) == 0o700
    # Second start: the stored token still works and no new one is printed.
    store = open_store(tmp_path / "srv")
    assert store.check_token(token) is not None and store.has_tokens()
    store.close()


def test_feed_page_is_served_fast(make_store: Callable[[], Store]) -> None:
    """The feed is built from stored JSON text: a page of 1000 must not cost a parse per record."""
    import time

    store = make_store()
    store.add_token(TOKEN, "alice")
    seed_demo(store, customers=100, big_entries=3000)
    with ServerThread(store) as server, httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        client.get("/v1/changes", params={"limit": 1000})  # warm up
        times = []
        for _ in range(7):
            started = time.perf_counter()
            r = client.get("/v1/changes", params={"limit": 1000})
            times.append(time.perf_counter() - started)
            assert r.status_code == 200 and len(r.json()["changes"]) == 1000
    # ~8 ms measured; generous so a slow CI machine does not fail it.
    assert sorted(times)[3] < 0.1, times


def test_server_imports_no_ui() -> None:
    code = ("import sys, agentdesk.server.run, agentdesk.server.app; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich') "
            "or m.startswith('agentdesk.ui')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]", result.stdout
