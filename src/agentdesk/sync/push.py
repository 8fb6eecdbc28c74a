"""Sending the outbox: in order per customer, and one edit the store keeps refusing holds up
no other customer's edits.

Edits go in batches (at most MAX_BATCH, and about PUSH_BYTES of JSON: the store limits a
request's size). The store applies a batch in one transaction, so a batch that fails leaves
nothing applied; then its edits are sent one at a time, and the one the store fails on is
found:

* refused with a 4xx (malformed, too large): the store will never take it as it is. It is
  *parked*: marked rejected with the store's reason, undone on the local copy, and shown under
  *Unsynced edits*, where the agent sends it again or discards it;
* failed with a 5xx (or an answer that is not one) after its retries: it is *held* for the
  rest of the run with its customer's later edits (their order matters: an edit of a note
  needs the note), while every other customer's edits go on. An attempt is counted against
  it only when the run otherwise succeeds and the store took other edits or failed on this
  one alone (a store that fails every edit is to blame, not each of them); after PARK_AFTER
  such runs it is parked too.

No UI here; the rules are written down for people in docs/sync-protocol.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from agentdesk.cache.outbox import OutboxItem
from agentdesk.model.protocol import MAX_BATCH, MAX_BODY, MutationResult, MutationStatus
from agentdesk.sync.client import AuthError, EpochChanged, NotFound, Offline, RemoteClient, RemoteError
from agentdesk.sync.replica import Replica

if TYPE_CHECKING:
    from agentdesk.sync.engine import SyncReport

log = logging.getLogger("agentdesk.sync")

PUSH_BYTES = 4 << 20  # a quarter of the reference store's body limit (server.app.MAX_BODY)
PARK_AFTER = 5  # runs in which the store failed on the same edit alone
SINGLE_ATTEMPTS = 2  # each edit sent alone, after its batch failed
STORE_DOWN_AFTER = 3  # edits failing alone in a row, none going through: the store is to blame


class Pusher:
    """The outbox sent during one sync run."""

    def __init__(self, replica: Replica, client: RemoteClient,
                 on_batch: Callable[[int], None]) -> None:
        self.replica = replica
        self.outbox = replica.cache.outbox
        self.client = client
        self.on_batch = on_batch  # told the edits sent so far, before each request
        self.held: dict[str, str] = {}  # customer id -> why its edits wait (this run)
        self.failures: dict[str, str] = {}  # mutation id -> why the store failed on it alone
        self._sent: set[str] = set()

    def push(self, report: SyncReport) -> None:
        """Send every pending edit except those of held customers."""
        while batch := self._next_batch(report):
            self.on_batch(report.pushed)
            retried = self._on_the_way(batch)
            try:
                answer = self.client.push([i.mutation for i in batch], retried=retried)
            except (Offline, AuthError, EpochChanged, NotFound):
                raise  # the store, not an edit: nothing is sent until it is back
            except RemoteError as error:
                log.warning("the store failed on a batch of %d edits (%s); sending them one "
                            "at a time", len(batch), error)
                self._one_by_one(batch, str(error), report)
                continue
            for item, result in zip(batch, answer.results, strict=True):
                self._record(item, result, report)

    def _on_the_way(self, batch: list[OutboxItem]) -> frozenset[str]:
        """The batch's edits sent before (in an earlier run, or one cut by a crash): their
        answer may have been lost after the store applied them. All of them are recorded as
        sent before they go."""
        before = frozenset(i.mutation.id for i in batch if i.sent)
        self.outbox.mark_sent(i.mutation.id for i in batch)
        return before

    def _next_batch(self, report: SyncReport) -> list[OutboxItem]:
        batch: list[OutboxItem] = []
        size = 0
        for item in self.outbox.pending():
            if item.mutation.id in self._sent or item.mutation.customer_id in self.held:
                continue
            length = len(item.mutation.model_dump_json())
            if length > MAX_BODY - (64 << 10):  # no store would read it: not worth sending
                self._sent.add(item.mutation.id)
                self._park(item, f"this edit is too large to send ({length >> 20} MiB; a store "
                                 f"takes at most {MAX_BODY >> 20} MiB)", report)
                continue
            if batch and (len(batch) >= MAX_BATCH or size + length > PUSH_BYTES):
                break
            batch.append(item)
            size += length
        return batch

    def _one_by_one(self, batch: list[OutboxItem], batch_error: str, report: SyncReport) -> None:
        """Send a failed batch's edits alone, to find the one the store fails on."""
        went, failed_in_a_row = 0, 0
        for item in batch:
            m = item.mutation
            if m.customer_id in self.held:
                continue
            if not went and failed_in_a_row >= STORE_DOWN_AFTER:  # nothing goes: not an edit
                self.held[m.customer_id] = batch_error
                self._sent.add(m.id)
                continue
            self.on_batch(report.pushed)
            try:
                # (sent with its batch: the remote may have applied it before failing)
                answer = self.client.push([m], attempts=SINGLE_ATTEMPTS, retried={m.id})
            except (Offline, AuthError, EpochChanged, NotFound):
                raise
            except RemoteError as error:
                self._sent.add(m.id)
                failed_in_a_row += 1
                if error.status is not None:  # a 4xx: it will never be taken as it is
                    self._park(item, f"the store refused this edit: {error}", report)
                else:
                    self.failures[m.id] = str(error)
                    self.held[m.customer_id] = str(error)
                continue
            went += 1
            failed_in_a_row = 0
            self._record(item, answer.results[0], report)
        if not went and failed_in_a_row >= 2:  # edits of several customers, none went: the
            # store is more likely to blame than each of them
            self.failures = {k: v for k, v in self.failures.items()
                             if k not in {i.mutation.id for i in batch}}

    def _record(self, item: OutboxItem, result: MutationResult, report: SyncReport) -> None:
        self._sent.add(item.mutation.id)
        self.replica.record_result(item, result)
        report.pushed += 1
        if result.status == MutationStatus.CONFLICT:
            report.conflicts += 1
        elif result.status == MutationStatus.REJECTED:
            report.rejected += 1
            log.warning("the store rejected an edit (%s %s): %s",
                        item.mutation.kind, item.mutation.target, result.reason)

    def _park(self, item: OutboxItem, why: str, report: SyncReport) -> None:
        log.warning("parked an edit (%s %s): %s", item.mutation.kind, item.mutation.target, why)
        self.replica.park(item, why)
        report.parked += 1

    def settle(self, report: SyncReport) -> None:
        """The run succeeded: count an attempt against each edit the store failed on alone;
        park those it failed on PARK_AFTER times; say why the others wait."""
        attempts: dict[str, int] = {}
        for item in self.outbox.failed(self.failures) if self.failures else []:
            why = self.failures[item.mutation.id]
            if item.attempts >= PARK_AFTER:
                self._park(item, f"the store failed on this edit {item.attempts} times; the "
                                 f"last time: {why}", report)
            else:
                attempts[item.mutation.customer_id] = item.attempts
        for customer_id, why in self.held.items():
            if customer_id in attempts:
                why = f"{why} (attempt {attempts[customer_id]} of {PARK_AFTER})"
            report.held.append(f"edits of customer {customer_id} not sent: {why}")
        self.failures.clear()
