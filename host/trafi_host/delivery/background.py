"""The loops that keep events moving in a running process.

In `trafi serve`: the relay (committed events nobody dispatched yet) and, with
`jobWorkers` > 0, job workers and the sweeper; with `--workers N`, in the one
worker that holds the event leader lock (`leader.py`). In `trafi worker`: job
workers and the sweeper only.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool
from huey.consumer import Consumer
from sqlalchemy.exc import SQLAlchemyError

from .dispatch import Dispatcher, EventWorker
from .leader import EventLeader

log = logging.getLogger("trafi.events")
RELAY_SECONDS = 0.5
SWEEP_SECONDS = 2.0
# How often a worker that is not the event leader tries to become it: the longest a dead
# leader's relay goes unreplaced (its claimed deliveries wait for their leases anyway).
LEAD_TRY_SECONDS = 0.5


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


async def keep_events_moving(dispatcher: Dispatcher, job_threads: int) -> None:
    """The relay and, with `job_threads` > 0, job workers and the sweeper, until cancelled."""
    loops = [asyncio.create_task(relay_loop(dispatcher))]
    consumer = None
    if job_threads > 0:
        worker, consumer = start_workers(dispatcher, job_threads, embedded=True)
        loops.append(asyncio.create_task(sweep_loop(worker)))
    try:
        await asyncio.gather(*loops)
    finally:
        for loop in loops:
            loop.cancel()
        if consumer is not None:
            consumer.stop()


async def keep_events_moving_when_leading(
    dispatcher: Dispatcher, job_threads: int, leader: EventLeader
) -> None:
    """Wait to hold the event leader lock, then run the event loops until cancelled."""
    try:
        while not await run_in_threadpool(leader.try_lead):
            await asyncio.sleep(LEAD_TRY_SECONDS)
        log.info("event leader: this process (pid %d) runs the relay, sweeper and job workers", os.getpid())
        await keep_events_moving(dispatcher, job_threads)
    finally:
        leader.release()
