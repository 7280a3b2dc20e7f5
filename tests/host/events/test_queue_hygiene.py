"""The job queue holds at most one job per unfinished delivery, and none once all are finished;
a sync delivery whose process died is resolved by the sweeper.

On the SQLite huey queue and on Redis, with the ledger in SQLite. The deliveries
are for a module that is not running, so each attempt fails at once and is
retried (scheduled jobs) until dead-lettered: every delivery finishes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.host.test_multi_host import REDIS_URL
from tests.polling import wait_for
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.db import Database
from trafi_host.db.schema import utcnow
from trafi_host.delivery.dispatch import DeliveryStats, EventWorker
from trafi_host.delivery.jobs import JobQueue
from trafi_host.events.deliveries import SYNC_LEASE_EXPIRED, DeliveryRow, Ledger, add_deliveries
from trafi_host.events.outbox import record_module_event
from trafi_host.runtime import ModuleRuntime

UNFINISHED = ("pending", "running")


@pytest.fixture(params=["sqlite", "redis"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobQueue]:
    redis_url = REDIS_URL if request.param == "redis" else None
    jobs = JobQueue(tmp_path / "state", redis_url, f"trafi-hygiene-{uuid.uuid4().hex[:12]}")
    yield jobs
    jobs.huey.flush()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    database = Database(f"sqlite:///{tmp_path / 'trafi.db'}")
    database.migrate()
    yield Ledger(database, retry_base_seconds=0.05)
    database.close()


@pytest.fixture
def worker(ledger: Ledger, queue: JobQueue, shared_artifact_cache: Path) -> Iterator[EventWorker]:
    runtime = ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv()), workers=2)
    yield EventWorker(ledger, queue, runtime, lambda: {}, DeliveryStats())
    runtime.close()


def add(ledger: Ledger, count: int, mode: str = "async", attempts: int = 3) -> list[int]:
    """`count` events for the module `ghost` (not running), one delivery each."""
    ids: list[int] = []
    with ledger.database.session() as session:
        for index in range(count):
            event = record_module_event(session, "acme", "noise", "made", {"n": index})
            [delivery] = add_deliveries(
                session, event.id, event.type, "acme", [("ghost", mode, attempts)], sync_lease_seconds=2.5
            )
            ids.append(delivery.id)
    return ids


def age(ledger: Ledger, ids: list[int], seconds: float, **values: object) -> None:
    """Move the rows' clocks back: as if they were written `seconds` ago."""
    past = utcnow() - timedelta(seconds=seconds)
    with ledger.database.session() as session:
        for delivery_id in ids:
            row = session.get(DeliveryRow, delivery_id)
            assert row is not None
            row.created_at = row.updated_at = row.next_attempt_at = past
            for name, value in values.items():
                setattr(row, name, value)


def unfinished(ledger: Ledger) -> set[int]:
    return {d.id for d in ledger.list(limit=10_000) if d.status in UNFINISHED}


def assert_one_job_at_most(queue: JobQueue, ledger: Ledger) -> None:
    jobs = queue.queued_deliveries()
    doubled = {delivery: n for delivery, n in jobs.items() if n > 1}
    assert not doubled, f"deliveries with more than one job: {doubled}"
    assert set(jobs) <= unfinished(ledger), "a job for a finished delivery"


def test_sweeping_a_backlog_never_queues_a_second_job_and_nothing_is_left_after(
    ledger: Ledger, queue: JobQueue, worker: EventWorker
) -> None:
    ids = add(ledger, 40)
    for delivery_id in ids:
        queue.enqueue(delivery_id)  # as the dispatcher does after its commit
    age(ledger, ids, 60)  # a backlog: due for a minute, well past any grace
    for _ in range(25):  # no worker runs: every one still has its job
        assert worker.sweep(grace_seconds=0) == 0
    assert queue.queued_deliveries() == dict.fromkeys(ids, 1)

    # Jobs lost (a worker killed after taking them, a queue flushed): each gets one again.
    queue.huey.storage.flush_queue()
    assert worker.sweep(grace_seconds=0) == len(ids)
    for _ in range(25):
        assert worker.sweep(grace_seconds=0) == 0
    assert queue.queued_deliveries() == dict.fromkeys(ids, 1)

    # Workers that take a while between taking a job and claiming its delivery (the moment
    # the job is in neither the queue nor the ledger), while the sweeper keeps running.
    def slow_start(delivery_id: int) -> None:
        time.sleep(0.05)
        worker.deliver(delivery_id)

    consumer = queue.consumer(2, slow_start, embedded=True)
    consumer.start()
    try:

        def swept_until_finished() -> bool:
            worker.sweep(grace_seconds=1.0)
            assert_one_job_at_most(queue, ledger)
            return not unfinished(ledger)

        wait_for(swept_until_finished, interval=0.02, message="every delivery to finish")
    finally:
        consumer.stop(graceful=True)
    assert {d.status for d in ledger.list(limit=100)} == {"dead"}
    assert all(d.attempts == 3 for d in ledger.list(limit=100))
    assert queue.job_count() == 0


def test_two_sweepers_queue_a_lost_job_once(ledger: Ledger, queue: JobQueue, worker: EventWorker) -> None:
    other = EventWorker(ledger, queue, worker.runtime, lambda: {}, DeliveryStats())
    ids = add(ledger, 10)
    age(ledger, ids, 60)  # due long ago, and their jobs are gone
    grace = 0.2

    def all_queued() -> bool:
        worker.sweep(grace)
        other.sweep(grace)
        return set(queue.queued_deliveries()) == set(ids)

    wait_for(all_queued, interval=0.02, message="every jobless delivery to be queued again")
    for _ in range(10):
        worker.sweep(grace)
        other.sweep(grace)
    assert queue.queued_deliveries() == dict.fromkeys(ids, 1)
    # What keeps them apart when both look at once: only one may take a delivery.
    [first] = add(ledger, 1)
    age(ledger, [first], 60)
    assert ledger.take_for_requeue(first, grace)
    assert not ledger.take_for_requeue(first, grace)


def test_an_async_delivery_whose_worker_died_is_queued_again_once(
    ledger: Ledger, queue: JobQueue, worker: EventWorker
) -> None:
    [delivery_id] = add(ledger, 1)
    # A worker claimed it and died: running, its lease over, its job long consumed.
    age(ledger, [delivery_id], 60, status="running", attempts=1, lease_until=utcnow() - timedelta(seconds=30))

    def queued_again() -> int:
        return worker.sweep(grace_seconds=0.2)

    assert wait_for(queued_again, interval=0.02, message="the sweeper to queue it again") == 1
    for _ in range(10):
        assert worker.sweep(grace_seconds=0.2) == 0
    assert queue.queued_deliveries() == {delivery_id: 1}


def test_a_sync_delivery_whose_process_died_is_failed_by_the_sweeper(
    ledger: Ledger, queue: JobQueue, worker: EventWorker
) -> None:
    abandoned, live = add(ledger, 2, mode="sync", attempts=1)
    # Written as the dispatcher writes it (running, first attempt), by a process that then
    # died: its lease ran out long ago. The other's lease still runs.
    age(ledger, [abandoned], 60, lease_until=utcnow() - timedelta(seconds=30))
    worker.sweep()
    failed = ledger.get(abandoned)
    assert failed is not None
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 1, SYNC_LEASE_EXPIRED)
    still = ledger.get(live)
    assert still is not None and still.status == "running"
    assert worker.stats.sync_failed == 1
    assert worker.stats.by_module == {("ghost", "sync", "failed"): 1}
    worker.sweep()
    assert worker.stats.sync_failed == 1  # resolved once
    assert queue.job_count() == 0  # sync deliveries never become jobs
