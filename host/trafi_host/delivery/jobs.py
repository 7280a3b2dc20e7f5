"""Async deliveries as huey jobs: SQLite storage by default, Redis when configured.

A job carries only a delivery id; the ledger (`deliveries.py`) holds the rest,
so a job that is lost (a worker killed after taking it) is re-queued by the
sweeper once its lease runs out, and a job that runs twice finds the delivery
already taken or done. The sweeper reads which deliveries have a job
(`queued_deliveries`) so that it queues one only for a delivery that has none.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

log = logging.getLogger("trafi.jobs")
TASK_NAME = "trafi.deliver-event"


class EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """A consumer inside another server: it must not take over that server's signal handlers."""

    def _set_signal_handlers(self) -> None:
        return None


class JobQueue:
    def __init__(self, state_dir: Path, redis_url: str | None, name: str) -> None:
        """`name`: the `TRAFI_JOB_QUEUE` setting; projects sharing one Redis each need their own."""
        self.backend = "redis" if redis_url else "sqlite"
        self.huey: Huey
        if redis_url:
            self.huey = RedisHuey(name, url=redis_url, results=False)
        else:
            state_dir.mkdir(parents=True, exist_ok=True)
            self.huey = SqliteHuey(name, filename=str(state_dir / "jobs.db"), results=False)
        # What a job does with its delivery id: given by `consumer()`, in processes that run jobs.
        self._run_job: Callable[[int], None] | None = None
        self._task = self.huey.task(name=TASK_NAME)(self._run)

    def _run(self, delivery_id: int) -> None:
        if self._run_job is None:
            raise RuntimeError("this process runs no event deliveries")
        self._run_job(delivery_id)

    def enqueue(self, delivery_id: int, delay: float = 0.0) -> None:
        if delay > 0:
            self._task.schedule(args=(delivery_id,), delay=delay)
        else:
            self._task(delivery_id)

    def queued_deliveries(self) -> Counter[int]:
        """Delivery id -> jobs for it waiting in the queue or scheduled for later (a retry).

        A snapshot: a job a worker has just taken, or one the scheduler is moving
        from the schedule to the queue, is in neither for a moment.
        """
        found: Counter[int] = Counter()
        storage = self.huey.storage
        for data in [*storage.enqueued_items(), *storage.scheduled_items()]:
            message = self.huey.serializer.deserialize(data)
            if message.args and isinstance(message.args[0], int):
                found[message.args[0]] += 1
        return found

    def job_count(self) -> int:
        """Jobs waiting in the queue or scheduled."""
        return int(self.huey.pending_count()) + int(self.huey.scheduled_count())

    def consumer(self, workers: int, run: Callable[[int], None], embedded: bool = False) -> Consumer:
        """A huey consumer whose jobs call `run(delivery_id)` in this process."""
        self._run_job = run
        # Short polling caps: an idle SQLite queue is looked at 4 times a second
        # (Redis blocks on the list and wakes at once).
        kind = EmbeddedConsumer if embedded else Consumer
        return kind(
            self.huey,
            workers=workers,
            worker_type="thread",
            initial_delay=0.05,
            backoff=1.2,
            max_delay=0.25,
            periodic=False,
        )
