"""From a committed event to the subscribed modules' handlers.

`publish` takes committed events from the outbox (each exactly once across
processes), writes one ledger row per subscription, runs the `sync` ones in the
tenant's instance under a short deadline (a failure is logged and counted, the
caller is never held past the deadline), and queues the `async` ones as jobs.
`EventWorker` runs those jobs; `sweep` resolves what no process holds: an async
delivery without a job gets one (never a second), a sync one whose process died
is failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any

from ..db.engine import Database
from ..events.catalogue import expected_source
from ..events.deliveries import Delivery, Ledger, add_deliveries
from ..events.outbox import Event, claim_undispatched, undispatched_ids
from ..events.wit_payload import event_record
from ..runtime import ModuleImage, ModuleRuntime
from .jobs import JobQueue

log = logging.getLogger("trafi.events")
LEASE_GRACE_SECONDS = 2.0
# How long an async delivery may wait for an instance (starting one included) before its
# handler's own time begins.
INSTANCE_START_SECONDS = 10.0
Images = Callable[[], Mapping[str, ModuleImage]]


@dataclass
class DeliveryStats:
    sync_done: int = 0
    sync_failed: int = 0
    async_queued: int = 0
    async_done: int = 0
    async_retried: int = 0
    dead_lettered: int = 0
    by_module_errors: dict[str, int] = field(default_factory=dict)
    # (module, mode, outcome) -> deliveries: the outcomes above, per module.
    by_module: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def failed(self, module: str) -> None:
        self.by_module_errors[module] = self.by_module_errors.get(module, 0) + 1

    def outcome(self, module: str, mode: str, outcome: str) -> None:
        key = (module, mode, outcome)
        self.by_module[key] = self.by_module.get(key, 0) + 1


def _lease_seconds(image: ModuleImage | None) -> float:
    # The wait for an instance, then the handler's whole timeout: no other worker may take
    # the delivery while this one can still be running it.
    return (image.timeout_ms / 1000 if image else 10.0) + INSTANCE_START_SECONDS + LEASE_GRACE_SECONDS


class Dispatcher:
    def __init__(
        self,
        database: Database,
        runtime: ModuleRuntime,
        images: Images,
        ledger: Ledger,
        queue: JobQueue,
        sync_deadline_ms: int,
    ) -> None:
        self.database = database
        self.runtime = runtime
        self.images = images
        self.ledger = ledger
        self.queue = queue
        self.sync_deadline_ms = sync_deadline_ms
        self.stats = DeliveryStats()

    def subscribers(self, event_type: str, source: str) -> list[tuple[ModuleImage, str, int]]:
        """(image, mode, attempts) of every running module subscribed to `event_type`.

        None when the event does not come from whom its type says (`order.*` from the
        core, `points.*` from the points module): an event is never delivered as another's.
        """
        if source != expected_source(event_type):
            log.warning(
                "event %s from %r not delivered: only %r emits it",
                event_type,
                source,
                expected_source(event_type),
            )
            return []
        found: list[tuple[ModuleImage, str, int]] = []
        for image in self.images().values():
            for subscription in image.manifest.events:
                if subscription.event == event_type:
                    attempts = subscription.max_retries + 1 if subscription.mode == "async" else 1
                    found.append((image, subscription.mode, attempts))
        return found

    def publish_events(self, events: list[Event]) -> None:
        self.publish([event.id for event in events])

    def publish(self, event_ids: list[str]) -> None:
        for event_id in event_ids:
            try:
                planned = self._claim_and_plan(event_id)
                if planned is None:
                    continue
                event, deliveries = planned
                for delivery in deliveries:
                    if delivery.mode == "async":
                        self.queue.enqueue(delivery.id)
                        self.stats.async_queued += 1
                        self.stats.outcome(delivery.module, "async", "queued")
                sync = [d for d in deliveries if d.mode == "sync"]
                if sync:
                    self._run_sync(event, sync)
            except Exception:
                # The business change is committed; a delivery problem must not undo or fail it.
                # The event stays in the outbox; its deliveries (if written) are swept.
                log.exception("could not dispatch event %s", event_id)

    def relay(self, older_than_seconds: float = 0.5) -> int:
        """Dispatch committed events nobody dispatched (a crash, a CLI change, a module's emit)."""
        ids = undispatched_ids(self.database, older_than_seconds)
        if ids:
            self.publish(ids)
        return len(ids)

    def _claim_and_plan(self, event_id: str) -> tuple[Event, list[Delivery]] | None:
        """Take the event and write its deliveries: one transaction, so both or neither."""
        with self.database.session() as session:
            event = claim_undispatched(session, event_id)
            if event is None:
                return None
            targets = self.subscribers(event.type, event.source)
            deliveries = add_deliveries(
                session,
                event.id,
                event.type,
                event.tenant,
                [(image.name, mode, attempts) for image, mode, attempts in targets],
                sync_lease_seconds=self.sync_deadline_ms / 1000 + LEASE_GRACE_SECONDS,
            )
        return event, deliveries

    def _run_sync(self, event: Event, deliveries: list[Delivery]) -> None:
        deadline = time.monotonic() + self.sync_deadline_ms / 1000
        record = event_record(event)
        bulkhead = self.runtime.bulkhead
        # A sync handler takes a worker slot like an HTTP call (module and tenant shares): those
        # with a free slot start now; only the ones whose module is saturated wait for one.
        futures: dict[Future[str | None], Delivery] = {}
        waiting: list[Delivery] = []
        for delivery in deliveries:
            if bulkhead.try_enter(delivery.module, delivery.tenant_id):
                futures[self._start_sync(delivery, record, deadline)] = delivery
            else:
                waiting.append(delivery)
        refused: list[tuple[Delivery, str | None]] = []
        for delivery in waiting:
            if bulkhead.enter_blocking(delivery.module, deadline, delivery.tenant_id):
                futures[self._start_sync(delivery, record, deadline)] = delivery
            else:
                refused.append(
                    (
                        delivery,
                        f"host overloaded: no free worker slot for {delivery.module} before the deadline",
                    )
                )
        # The handler's own deadline ends it (or its abandonment, if it is blocked in a WASI call,
        # a little later: then it is recorded on its own); the small grace lets its result be
        # recorded with the rest.
        finished, late = wait(futures, timeout=max(0.0, deadline - time.monotonic()) + 0.05)
        self._record_sync([(futures[f], f.result()) for f in finished] + refused)
        for future in late:
            delivery = futures[future]
            log.warning(
                "sync handler of %s for %s %s outlived its deadline", delivery.module, event.type, event.id
            )
            future.add_done_callback(self._late_recorder(delivery))

    def _late_recorder(self, delivery: Delivery) -> Callable[[Future[str | None]], None]:
        return lambda future: self._record_sync([(delivery, future.result())])

    def _start_sync(self, delivery: Delivery, record: Any, deadline: float) -> Future[str | None]:
        """Runs one admitted sync delivery (its bulkhead slot taken) on a wasm worker thread."""
        image = self.images().get(delivery.module)
        if image is None:
            self.runtime.bulkhead.leave(delivery.module, delivery.tenant_id)
            gone: Future[str | None] = Future()
            gone.set_result(f"module {delivery.module} is not running")
            return gone
        budget = self.sync_deadline_ms / 1000  # the handler's share, even if it started late
        return self.runtime.start_event_delivery(image, record, delivery.tenant_id, deadline, budget)

    def _record_sync(self, outcomes: list[tuple[Delivery, str | None]]) -> None:
        if not outcomes:
            return
        self.ledger.finish_many(outcomes)
        for delivery, error in outcomes:
            if error is None:
                self.stats.sync_done += 1
                self.stats.outcome(delivery.module, "sync", "done")
                continue
            sync_failed(self.stats, delivery, error)


def sync_failed(stats: DeliveryStats, delivery: Delivery, error: str | None) -> None:
    """Counts and logs a sync delivery that failed (its handler, the deadline, or abandoned)."""
    stats.sync_failed += 1
    stats.outcome(delivery.module, "sync", "failed")
    stats.failed(delivery.module)
    log.warning(
        "event_handler_failed mode=sync module=%s event=%s id=%s tenant=%s error=%s",
        delivery.module,
        delivery.event_type,
        delivery.event_id,
        delivery.tenant_id,
        error,
    )


class EventWorker:
    """Runs queued deliveries in this process (`trafi worker`, or `trafi serve` with jobWorkers)."""

    def __init__(
        self, ledger: Ledger, queue: JobQueue, runtime: ModuleRuntime, images: Images, stats: DeliveryStats
    ) -> None:
        self.ledger = ledger
        self.queue = queue
        self.runtime = runtime
        self.images = images
        self.stats = stats
        # Delivery id -> when a sweep first found it due with no job in the queue.
        self._jobless_since: dict[int, float] = {}

    def deliver(self, delivery_id: int) -> None:
        ledger = self.ledger
        images = self.images()
        taken = ledger.claim_with_event(delivery_id, lambda module: _lease_seconds(images.get(module)))
        if taken is None:
            return  # not due, or another worker has it
        delivery, event = taken
        image = images.get(delivery.module)
        if event is None:
            error: str | None = f"event {delivery.event_id} is not in the outbox"
        elif image is None:
            error = f"module {delivery.module} is not running"
        else:
            # The wait for a worker slot and an instance is bounded apart; the handler's own time
            # starts with it. On a wasm worker thread: this one is back by the handler's deadline
            # (plus a grace) even if the handler blocks in a WASI call.
            deadline = time.monotonic() + INSTANCE_START_SECONDS
            error = self.runtime.deliver_event(image, event_record(event), delivery.tenant_id, deadline)
        delay = ledger.finish(delivery, error)
        if error is None:
            self.stats.async_done += 1
            self.stats.outcome(delivery.module, "async", "done")
            return
        self.stats.failed(delivery.module)
        if delay is None:
            self.stats.dead_lettered += 1
            self.stats.outcome(delivery.module, "async", "dead")
            log.error(
                "event_dead_lettered module=%s event=%s id=%s attempts=%d error=%s",
                delivery.module,
                delivery.event_type,
                delivery.event_id,
                delivery.attempts,
                error,
            )
            return
        self.stats.async_retried += 1
        self.stats.outcome(delivery.module, "async", "retried")
        log.warning(
            "event_handler_failed mode=async module=%s event=%s id=%s attempt=%d/%d retry_in=%.1fs error=%s",
            delivery.module,
            delivery.event_type,
            delivery.event_id,
            delivery.attempts,
            delivery.max_attempts,
            delay,
            error,
        )
        self.queue.enqueue(delivery.id, delay)

    def sweep(self, grace_seconds: float = 3.0) -> int:
        """Resolve deliveries no process holds; returns how many async ones were queued again.

        An async delivery that is due, or whose worker's lease ran out, gets a job
        only if it has none: not in the queue or the schedule at two looks
        `grace_seconds` apart (a job a worker has just taken is in neither for a
        moment, until its claim shows in the ledger), and only by one sweeper
        (`take_for_requeue`). So a backlog is never queued twice. A sync delivery
        whose lease ran out is failed (its process died mid-delivery).
        """
        self._fail_abandoned_sync()
        due = self.ledger.due(grace_seconds)
        if not due:
            self._jobless_since.clear()
            return 0
        queued = self.queue.queued_deliveries()
        now = time.monotonic()
        jobless = {d: self._jobless_since.get(d, now) for d in due if d not in queued}
        self._jobless_since = jobless
        requeued = 0
        for delivery_id, since in list(jobless.items()):
            if now - since < grace_seconds or not self.ledger.take_for_requeue(delivery_id, grace_seconds):
                continue
            self.queue.enqueue(delivery_id)
            self._jobless_since.pop(delivery_id)
            requeued += 1
        if requeued:
            log.info("delivery sweeper: %d delivery(ies) had no job and were queued again", requeued)
        return requeued

    def _fail_abandoned_sync(self) -> None:
        for delivery in self.ledger.fail_abandoned_sync():
            sync_failed(self.stats, delivery, delivery.last_error)
