"""The loops that keep events moving in a running process.

In `trafi serve`: the relay (committed events nobody dispatched yet) and, with
`jobWorkers` > 0, job workers and the sweeper. In `trafi worker`: job workers
and the sweeper only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool
from huey.consumer import Consumer
from sqlalchemy.exc import SQLAlchemyError

from .dispatch import Dispatcher, EventWorker

log = logging.getLogger("trafi.events")
RELAY_SECONDS = 0.5
SWEEP_SECONDS = 2.0


async def _every(seconds: float, action: Callable[[], int], what: str) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await run_in_threadpool(action)
        except SQLAlchemyError as error:  # the database is back next time; nothing is lost meanwhile
            log.warning("%s: database unavailable (%s)", what, error)


async def relay_loop(dispatcher: Dispatcher) -> None:
    await _every(RELAY_SECONDS, dispatcher.relay, "event relay")


async def sweep_loop(worker: EventWorker) -> None:
    await _every(SWEEP_SECONDS, worker.sweep, "delivery sweeper")


def start_workers(dispatcher: Dispatcher, threads: int, embedded: bool) -> tuple[EventWorker, Consumer]:
    """Job workers in this process; the caller runs (`consumer.run()`) or stops the consumer."""
    worker = EventWorker(
        dispatcher.ledger, dispatcher.queue, dispatcher.runtime, dispatcher.images, dispatcher.stats
    )
    consumer = dispatcher.queue.consumer(threads, worker.deliver, embedded=embedded)
    if embedded:
        consumer.start()
    log.info("event workers: %d thread(s) on %s", threads, dispatcher.queue.backend)
    return worker, consumer
