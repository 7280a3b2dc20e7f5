"""The health window after an update counts every host's calls: two hosts on one database
(the two workers of `trafi serve --workers 2`, or two machines) fail a window on the failures
they saw between them, and pass it on the calls they served between them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from trafi_host.db import Database
from trafi_host.project.config import UpdateSettings
from trafi_host.updates.health_gate import HealthGate
from trafi_host.updates.records import UpdateRecord, UpdateRecords

DIGEST = "new-digest"


@pytest.fixture
def records(database_url: str) -> Iterator[UpdateRecords]:
    database = Database(database_url)
    database.migrate()
    try:
        yield UpdateRecords(database)
    finally:
        database.engine.dispose()


class Host:
    """One host's gate, and what it did with its verdicts."""

    def __init__(self, records: UpdateRecords, settings: UpdateSettings) -> None:
        self.failed: list[str] = []
        self.passed: list[UpdateRecord] = []
        self.gate = HealthGate(
            records, lambda _record, reason: self.failed.append(reason), self.passed.append
        )
        self.gate.refresh(settings)
        assert self.gate.start("hello", DIGEST)

    def calls(self, count: int, failure: str | None = None) -> None:
        for _ in range(count):
            self.gate.observe("hello", DIGEST, failure)


def _open(records: UpdateRecords) -> int:
    return records.open_window("hello", "0.1.0", "old-digest", "0.2.0", DIGEST, "operator")


def test_failures_seen_by_two_hosts_fail_the_window_that_neither_alone_would(records: UpdateRecords) -> None:
    update = _open(records)
    settings = UpdateSettings(health_max_failures=5, health_window_calls=1000, health_max_error_rate=1.0)
    a, b = Host(records, settings), Host(records, settings)
    a.calls(3, "trap")
    b.calls(1, "trap")
    assert (a.failed, b.failed) == ([], [])  # 4 failures in all, under 5
    b.calls(1, "trap")  # the fifth, on the host that saw only two
    assert b.failed == ["5 of 5 calls failed in the health window (last: trap)"]
    a.gate.tick()  # the other host learns the window is decided, and acts on nothing
    assert a.failed == [] and not a.gate.watching("hello")
    [decided] = [r for r in _rows(records) if r.id == update]
    assert (decided.status, decided.calls, decided.failures) == ("failed", 5, 5)


def test_calls_served_by_two_hosts_pass_the_window_once(records: UpdateRecords) -> None:
    update = _open(records)
    settings = UpdateSettings(health_max_failures=5, health_window_calls=30, health_max_error_rate=0.5)
    a, b = Host(records, settings), Host(records, settings)
    a.calls(16)
    b.calls(12)  # 28 in all (each host adds its count every 10 calls, and at each tick)
    a.gate.tick()
    b.gate.tick()
    assert a.passed == b.passed == []
    b.calls(2, None)  # 30 as far as b knows: it adds its two and decides at once
    assert len(b.passed) == 1 and a.passed == []
    a.gate.tick()
    assert a.passed == [] and not a.gate.watching("hello")
    [decided] = [r for r in _rows(records) if r.id == update]
    assert (decided.status, decided.calls, decided.failures) == ("passed", 30, 0)


def test_the_error_rate_is_every_host_s(records: UpdateRecords) -> None:
    _open(records)
    settings = UpdateSettings(health_max_failures=100, health_window_calls=1000, health_max_error_rate=0.2)
    a, b = Host(records, settings), Host(records, settings)
    a.calls(10)  # a: no failure at all
    b.calls(2, "deadline")  # b: 2 of 2 failed; in all 2 of 12, under a fifth
    assert b.failed == []
    b.calls(1, "deadline")  # 3 of 13: over a fifth
    assert b.failed == ["3 of 13 calls failed in the health window (last: deadline)"]


def _rows(records: UpdateRecords) -> list[UpdateRecord]:
    from sqlalchemy import select

    from trafi_host.updates.records import ModuleUpdateRow

    with records.database.session() as session:
        return [UpdateRecord.of(row) for row in session.scalars(select(ModuleUpdateRow))]


def test_a_failed_update_is_unsettled_until_rolled_back_or_superseded(records: UpdateRecords) -> None:
    """What every host's reconcile reads: the failed version is not to be switched to until the
    rollback marks the row, and only each module's latest update counts."""
    first = _open(records)
    assert records.decide(first, "failed", "3 of 4 calls failed", 4, 3)
    gate = HealthGate(records, lambda _record, _reason: None)
    gate.refresh(UpdateSettings())
    failed = gate.failed_update("hello")
    assert failed is not None and (failed.id, failed.from_digest, failed.to_digest) == (
        first,
        "old-digest",
        DIGEST,
    )
    assert gate.window_for("hello", DIGEST) is None  # failed: no window to count calls in

    records.mark(first, "rolled-back", "restored")
    gate.refresh(UpdateSettings())
    assert gate.failed_update("hello") is None

    again = records.open_window("hello", "0.1.0", "old-digest", "0.2.0", DIGEST, "operator")
    records.decide(again, "failed", "failed again", 3, 3)
    newer = records.open_window("hello", "0.1.0", "old-digest", "0.3.0", "newest-digest", "operator")
    gate.refresh(UpdateSettings())
    assert gate.failed_update("hello") is None  # superseded by a later update: its window counts
    window = gate.window_for("hello", "newest-digest")
    assert window is not None and window.id == newer
    assert set(records.unsettled()) == {"hello"}
