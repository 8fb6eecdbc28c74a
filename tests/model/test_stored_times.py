"""The read-only views' times: a column converted in bulk reads as one converted value by
value, and a stored time the checks would refuse is named, whichever way it is read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agentdesk.model.views import StoredRecords


def conversations(*started: str | None) -> StoredRecords:
    return StoredRecords("conversation", [
        {"id": f"c{i}", "topic": "t", "status": "open", "channels": ["chat"], "started": s,
         "ended": None} for i, s in enumerate(started)])


def test_a_column_reads_as_each_value_does() -> None:
    records = conversations("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.250000Z",
                            "2024-05-01T12:00:00+02:00", "0001-01-02T00:00:00Z")
    assert records.field("started") == [
        datetime(2024, 5, 1, 10, tzinfo=UTC), datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=UTC),
        datetime(2024, 5, 1, 10, tzinfo=UTC), datetime(1, 1, 2, tzinfo=UTC)]
    assert records.field("started") == [records[i].started for i in range(4)]
    assert records.field("ended") == [None] * 4


def test_missing_times_stay_missing() -> None:
    records = conversations(None, "2024-05-01T10:00:00Z", None)
    assert records.field("started") == [None, datetime(2024, 5, 1, 10, tzinfo=UTC), None]


@pytest.mark.parametrize(("bad", "message"), [
    ("2024-05-01T10:00:00", "a stored time without its zone: 2024-05-01T10:00:00"),
    ("0001-01-01T00:00:00+01:00", "a stored time out of range: 0001-01-01T00:00:00+01:00"),
    ("9999-12-31T23:00:00Z", "a stored time out of range: 9999-12-31T23:00:00Z"),
])
@pytest.mark.parametrize("where", [0, 1, 2])
def test_a_time_the_checks_refuse_is_named_in_a_column(bad: str, message: str, where: int) -> None:
    started: list[str | None] = ["2024-05-01T10:00:00Z", None, "2023-01-01T00:00:00Z"]
    started[where] = bad
    with pytest.raises(ValueError) as raised:
        conversations(*started).field("started")
    assert str(raised.value) == message


def test_a_naive_time_alone_is_refused() -> None:
    with pytest.raises(ValueError, match="without its zone"):
        conversations("2024-05-01T10:00:00").field("started")
