"""Values published from any thread, to every asyncio subscriber, each on its own event loop.

A publisher may be a watcher's thread, a worker's or a request's; a subscriber
is a coroutine (a server-sent event stream) reading a queue on its loop. An
asyncio queue may only be touched from its loop's thread, so each value is
handed to a subscriber's loop with `call_soon_threadsafe`, never put directly.

A slow subscriber never slows a publisher nor the other subscribers: its queue
is unbounded and keeps what it has not read yet. Values from one thread reach
every subscriber in the order they were published; values from threads
publishing at once may interleave differently per subscriber. A subscriber
whose loop has closed is skipped until it leaves.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class Broadcast(Generic[T]):
    def __init__(self) -> None:
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[T]]] = []
        self._lock = threading.Lock()

    def publish(self, value: T) -> None:
        """Hands `value` to every current subscriber (from any thread; never blocks on a reader)."""
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, value)
            except RuntimeError:  # that loop is closed: its subscriber is gone
                pass

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[T]]:
        """A queue of the values published from now on (call on the event loop that reads it)."""
        entry = (asyncio.get_running_loop(), asyncio.Queue[T]())
        with self._lock:
            self._subscribers.append(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._subscribers.remove(entry)
