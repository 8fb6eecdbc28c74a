"""Where each file of a cache folder is (schema 5).

    meta.json                               schema version, checked before anything is read
    lock                                    flock: one writer at a time
    recent.json                             recently viewed customers, newest first
    sync.json                               the store's epoch and the feed cursor
    outbox.json                             edits the store has not confirmed yet
    drafts.json                             what the agent typed in a form and has not
                                            saved (a new note, a note or details edited)
    index/<00..ff>.json                     search rows (every contact point, the relationships),
                                            256 shards; index/journal.json
                                            the rows changed since the shards were written
    queue/<00..ff>.json                     the queue's rows: one per conversation to work
                                            (new, open, pending, snoozed), by customer shard
    canned.json                             the store's canned replies, as last synced
    agents.json                             the agents the store knows, and which one we are
    customers/<shard>/<id>.json             a customer's profile file: the customer, contacts,
                                            relationships, notes, conversations, the store's
                                            revisions, the timeline's summary and, when it
                                            fits one chunk (most customers), its entries
    customers/<shard>/<id>.entries/*.json   a longer timeline's entries, ~200 per file
    spool/                                  a first sync's changes, until they are filed
    repair.json                             customers to rebuild from the store
    logs/skipped.log                        changes a sync skipped, and why
    logs/crash-*.log                        what an unexpected error left (the command line)

Every `.json` file is a TinyDB database (a JSON object of tables, each mapping document ids
to documents): stock `TinyDB(path)` reads any of them. No file grows with the number of
customers except the index shards (1/256 of them each).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from agentdesk.model.sha256 import sha256

PROFILE_SUFFIX = ".json"
CHUNKS_SUFFIX = ".entries"  # a suffix no profile file has: ids may contain dots
_SAFE_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")


@lru_cache(maxsize=1 << 16)  # a first sync asks several times per customer
def shard_of(customer_id: str) -> str:
    return sha256(customer_id.encode()).hexdigest()[:2]


def file_name(customer_id: str) -> str:
    """A file-system-safe name for any id (ids come from remote stores)."""
    if _SAFE_ID.fullmatch(customer_id):
        return customer_id
    return "~" + sha256(customer_id.encode()).hexdigest()


@lru_cache(maxsize=1024)
def shard_dir(root: Path, shard: str) -> Path:
    return root / "customers" / shard


def profile_file(root: Path, customer_id: str) -> Path:
    """A customer's profile file."""
    return shard_dir(root, shard_of(customer_id)) / (file_name(customer_id) + PROFILE_SUFFIX)


def timeline_dir(root: Path, customer_id: str) -> Path:
    """The folder of a customer's timeline files (when its timeline outgrew its profile file)."""
    return shard_dir(root, shard_of(customer_id)) / (file_name(customer_id) + CHUNKS_SUFFIX)


def customer_files(root: Path, customer_id: str) -> tuple[Path, Path]:
    """A customer's profile file and the folder of its timeline files."""
    return profile_file(root, customer_id), timeline_dir(root, customer_id)


def is_temp(path: Path) -> bool:
    """The temporary file of an atomic write (a crash can leave one)."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


def skipped_log(root: Path) -> Path:
    return root / "logs" / "skipped.log"


def repair_file(root: Path) -> Path:
    return root / "repair.json"


def logs_dir(root: Path) -> Path:
    return root / "logs"
