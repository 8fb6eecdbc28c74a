"""`agentdesk export` through the real command, on a real cache: the files parse back to what
the cache holds, hostile text comes out inert, formulas are neutralised, bad input is named."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from agentdesk.cache.cache import Cache
from agentdesk.model import demo
from agentdesk.model.kinds import ContactKind, CustomerStatus
from agentdesk.model.records import ContactPoint, Conversation, Customer, Profile, Segment

FIELDS = ["id", "name", "company", "email", "phone", "status", "tags", "segments", "channels",
          "last_contact"]


def export(cache: Cache, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentdesk", "export", "--cache", str(cache.root),
                           *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})


def parsed_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_every_customer_is_exported_as_the_cache_holds_them(demo_cache: Cache) -> None:
    done = export(demo_cache, "--format", "json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    held = {r.id: r for r in demo_cache.index_rows()}
    assert len(out) == len(held) == len(demo.dataset())
    for doc in out:
        row = held[doc["id"]]
        if doc["id"] == demo.HOSTILE_ID:
            continue  # cleaned: see test_hostile_text_comes_out_inert
        assert list(doc) == FIELDS
        assert (doc["name"], doc["email"], doc["phone"], doc["company"], doc["status"],
                doc["tags"], doc["channels"], doc["last_contact"]) == (
            row.name, row.email, row.phone, row.company, row.status, row.tags, row.channels,
            row.last_contact)
        profile = demo_cache.load_profile(doc["id"])  # and the index says what the file says
        assert profile is not None
        assert (doc["name"], doc["company"], doc["status"], doc["tags"],
                doc["segments"]) == (profile.customer.name, profile.customer.company,
                                     profile.customer.status, profile.customer.tags,
                                     [s.name for s in profile.segments])


def test_a_query_selects_and_fields_choose_columns(demo_cache: Cache) -> None:
    done = export(demo_cache, "--query", "tag:vip -status:churned", "--fields", "name,status,tags")
    assert done.returncode == 0, done.stderr
    rows = parsed_csv(done.stdout)
    expected = [r for r in demo_cache.index_rows()
                if "vip" in r.tags and r.status != CustomerStatus.CHURNED]
    assert rows and len(rows) == len(expected)
    assert all(list(r) == ["name", "status", "tags"] for r in rows)
    assert all("vip" in r["tags"].split("; ") and r["status"] != "churned" for r in rows)
    assert [r["name"] for r in rows] == sorted((r["name"] for r in rows), key=str.casefold)


def test_free_text_and_last_contact_filter(demo_cache: Cache) -> None:
    rows = list(demo_cache.index_rows())
    some = next(r for r in rows if r.company == "Northwind Traders")
    by_text = parsed_csv(export(demo_cache, "-q", "northwind", "--fields", "id").stdout)
    assert some.id in {r["id"] for r in by_text}
    assert len(by_text) == sum(1 for r in rows if "northwind" in r.company.lower())
    newest = max(rows, key=lambda r: r.last_contact)
    age = datetime.now(UTC) - datetime.fromisoformat(newest.last_contact)
    days = max(age.days + 2, 1)
    recent = parsed_csv(export(demo_cache, "-q", f"last-contact:<{days}d", "--fields", "id").stdout)
    older = parsed_csv(export(demo_cache, "-q", f"last-contact:>{days}d", "--fields", "id").stdout)
    assert newest.id in {r["id"] for r in recent}
    assert {r["id"] for r in recent}.isdisjoint({r["id"] for r in older})
    assert len(recent) + len(older) == len(rows)


HOSTILE = Profile(
    customer=Customer(id="cus_formula", name='=HYPERLINK("http://evil","click")',
                      company='@SUM(1+1)\r\nline two, "quoted"', status=CustomerStatus.VIP,
                      tags=["-2+3", "+cmd", "\tTAB", "plain"]),
    contacts=[ContactPoint(kind=ContactKind.EMAIL, value="eve@example.com", primary=True),
              ContactPoint(kind=ContactKind.PHONE, value="+1 555 000 1111", primary=True)],
    segments=[Segment(name="=1+1 \x1b]52;c;cHduZWQ=\x07 Trial users")],
    conversations=[Conversation(topic="x", channels=["sms"],
                                started=datetime(2026, 1, 1, tzinfo=UTC))],
)


def test_formulas_are_neutralised_and_csv_survives_any_text(demo_cache: Cache) -> None:
    demo_cache.put_profile(HOSTILE)
    done = export(demo_cache, "--query", "tag:plain")
    assert done.returncode == 0, done.stderr
    [row] = parsed_csv(done.stdout)
    assert row["name"] == "'" + HOSTILE.customer.name  # the quotes survive, the formula does not
    assert row["company"] == "'@SUM(1+1)\nline two, \"quoted\""  # newline kept, CR gone
    assert row["tags"] == "'-2+3; +cmd;     TAB; plain"  # a cell is checked as a whole
    assert row["phone"] == "'+1 555 000 1111"
    assert row["segments"] == "'=1+1  Trial users"  # OSC 52 removed, then neutralised
    assert row["email"] == "eve@example.com" and row["status"] == "vip"
    for cell in row.values():
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    as_json = json.loads(export(demo_cache, "-q", "tag:plain", "--format", "json").stdout)
    assert as_json[0]["name"] == HOSTILE.customer.name  # JSON is not a spreadsheet: as typed
    assert as_json[0]["segments"] == ["=1+1  Trial users"]


def test_hostile_text_comes_out_inert(demo_cache: Cache) -> None:
    for fmt in ("csv", "json"):
        done = export(demo_cache, "--format", fmt, "-q", "mallory")
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout and "\x07" not in done.stdout
        assert not any("\x80" <= ch <= "\x9f" or "\u202a" <= ch <= "\u202e" for ch in done.stdout)
        assert "[bold red]Mallory[/]" in done.stdout  # markup is text, kept as typed


def test_output_file_is_private_and_bad_input_is_named(demo_cache: Cache, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    done = export(demo_cache, "-o", str(target), "-q", "status:vip")
    assert done.returncode == 0 and done.stdout == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    rows = parsed_csv(target.read_text(encoding="utf-8"))
    assert f"{len(rows)} customers written" in done.stderr
    assert len(rows) == sum(1 for r in demo_cache.index_rows() if r.status == "vip")
    for args, message in [
        (("-q", "colour:red"), 'unknown filter "colour:"'),
        (("-q", "last-contact:30"), "last-contact takes <Nd or >Nd"),
        (("--fields", "name,shoe_size"), 'unknown field "shoe_size"'),
    ]:
        bad = export(demo_cache, *args)
        assert bad.returncode == 2 and message in bad.stderr and bad.stdout == ""
        assert "Traceback" not in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "agentdesk", "export", "--cache",
                              str(tmp_path / "none")], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "No cache at" in missing.stderr
    assert not (tmp_path / "none").exists()


def test_the_chart_facts_are_fields_to_choose(demo_cache: Cache) -> None:
    wanted = "id,since,reachable,open_conversations"
    rows = parsed_csv(export(demo_cache, "--fields", wanted).stdout)
    docs = json.loads(export(demo_cache, "--fields", wanted, "--format", "json").stdout)
    held = {r.id: r for r in demo_cache.index_rows()}
    assert len(rows) == len(docs) == len(held)
    for row, doc in zip(rows, docs, strict=True):
        facts = held[row["id"]]
        assert (row["since"], row["reachable"], row["open_conversations"]) == (
            facts.since, "true" if facts.reachable else "false", str(facts.open_conversations))
        assert (doc["since"], doc["reachable"], doc["open_conversations"]) == (
            facts.since, facts.reachable, facts.open_conversations)
    assert any(int(r["open_conversations"]) for r in rows)
