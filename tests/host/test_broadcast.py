"""Broadcast: values published from many threads reach every subscriber's loop, once each and in
each thread's order; a slow subscriber holds nobody up; leaving while others publish is safe."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from trafi_host.broadcast import Broadcast

THREADS = 8
PER_THREAD = 500


def publish_from_threads(broadcast: Broadcast[tuple[int, int]], threads: int, per_thread: int) -> None:
    """`threads` threads publish (thread, n) for n in 0..per_thread-1, all released at once."""
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def publisher(thread: int) -> None:
        start.wait()
        try:
            for n in range(per_thread):
                broadcast.publish((thread, n))
        except BaseException as error:  # noqa: BLE001 - reported below, the test names it
            failures.append(error)

    workers = [threading.Thread(target=publisher, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures, failures


def run_on_own_loop(coroutine: Callable[[], Coroutine[Any, Any, None]]) -> threading.Thread:
    thread = threading.Thread(target=asyncio.run, args=(coroutine(),))
    thread.start()
    return thread


def assert_all_in_thread_order(received: list[tuple[int, int]], threads: int, per_thread: int) -> None:
    assert len(received) == threads * per_thread
    for thread in range(threads):
        assert [n for t, n in received if t == thread] == list(range(per_thread))


def test_many_threads_publishing_reach_subscribers_on_several_loops() -> None:
    broadcast = Broadcast[tuple[int, int]]()
    subscribed = threading.Barrier(3)  # two loops' subscribers and the test
    received: dict[str, list[tuple[int, int]]] = {"a": [], "b": []}

    def reader(name: str) -> Callable[[], Coroutine[Any, Any, None]]:
        async def read() -> None:
            with broadcast.subscribe() as queue:
                await asyncio.to_thread(subscribed.wait)
                while len(received[name]) < THREADS * PER_THREAD:
                    received[name].append(await queue.get())

        return read

    loops = [run_on_own_loop(reader("a")), run_on_own_loop(reader("b"))]
    subscribed.wait()
    publish_from_threads(broadcast, THREADS, PER_THREAD)
    for loop in loops:
        loop.join(timeout=120)
        assert not loop.is_alive()
    for values in received.values():
        assert_all_in_thread_order(values, THREADS, PER_THREAD)


def test_a_subscriber_whose_loop_is_stuck_holds_up_neither_publishers_nor_others() -> None:
    broadcast = Broadcast[tuple[int, int]]()
    subscribed = threading.Barrier(3)
    unstick = threading.Event()
    fast: list[tuple[int, int]] = []
    slow: list[tuple[int, int]] = []

    async def read_fast() -> None:
        with broadcast.subscribe() as queue:
            await asyncio.to_thread(subscribed.wait)
            while len(fast) < THREADS * PER_THREAD:
                fast.append(await queue.get())

    async def read_slow() -> None:
        with broadcast.subscribe() as queue:
            subscribed.wait()
            unstick.wait()  # blocks its whole loop: nothing handed to it can run meanwhile
            while len(slow) < THREADS * PER_THREAD:
                slow.append(await queue.get())

    fast_loop, slow_loop = run_on_own_loop(read_fast), run_on_own_loop(read_slow)
    subscribed.wait()
    publish_from_threads(broadcast, THREADS, PER_THREAD)  # returns with the slow loop still stuck
    fast_loop.join(timeout=120)
    assert not fast_loop.is_alive() and slow == []
    assert_all_in_thread_order(fast, THREADS, PER_THREAD)

    unstick.set()  # the slow one lost nothing: its queue kept all it had not read
    slow_loop.join(timeout=120)
    assert not slow_loop.is_alive()
    assert_all_in_thread_order(slow, THREADS, PER_THREAD)


def test_subscribers_leaving_and_joining_while_threads_publish() -> None:
    broadcast = Broadcast[tuple[int, int]]()
    publishing = threading.Event()
    done = threading.Event()
    stayed: list[tuple[int, int]] = []
    markers = itertools.count()
    churn_rounds = 0

    async def churn() -> None:
        nonlocal churn_rounds
        await asyncio.to_thread(publishing.wait)
        while not done.is_set():
            with broadcast.subscribe() as queue:
                await asyncio.sleep(0)
            # Left: a value a publisher thread took it for before it left may still land in the
            # dropped queue, but nothing published after it left is handed to it.
            marker = (-1, next(markers))
            broadcast.publish(marker)
            await asyncio.sleep(0)  # had it still been subscribed, the marker would be in by now
            assert marker not in [queue.get_nowait() for _ in range(queue.qsize())]
            churn_rounds += 1

    async def stay() -> None:
        with broadcast.subscribe() as queue:
            publishing.set()
            published = 0
            while published < THREADS * PER_THREAD:
                value = await queue.get()
                if value[0] >= 0:
                    stayed.append(value)
                    published += 1

    async def all_subscribers() -> None:
        await asyncio.gather(stay(), churn(), churn())

    loop = threading.Thread(target=asyncio.run, args=(all_subscribers(),))
    loop.start()
    assert publishing.wait(timeout=60)
    publish_from_threads(broadcast, THREADS, PER_THREAD)
    done.set()
    loop.join(timeout=120)
    assert not loop.is_alive()
    assert churn_rounds > 0
    assert_all_in_thread_order(stayed, THREADS, PER_THREAD)


def test_a_subscriber_whose_loop_closed_without_leaving_is_skipped() -> None:
    broadcast = Broadcast[int]()
    loop = asyncio.new_event_loop()
    subscription = broadcast.subscribe()  # kept: collected, it would leave on its own

    async def join_and_abandon() -> asyncio.Queue[int]:
        return subscription.__enter__()  # never left: its loop closes under it

    abandoned = loop.run_until_complete(join_and_abandon())
    loop.close()
    received: list[int] = []

    async def read() -> None:
        with broadcast.subscribe() as queue:
            await asyncio.to_thread(broadcast.publish, 1)
            received.append(await queue.get())

    asyncio.run(read())
    assert received == [1] and abandoned.empty()
