"""Module state changes as this host applies them, to every `/api/admin/events` subscriber.

Published from whichever thread reconciles (the change watcher's, a request's) or
quarantines (a worker's); read on the server's event loop, each subscriber's queue
fed through its own loop. The dashboard refreshes its navigation on each change,
whatever process or command made it: the change reaches this host through the
state table or the config file like any other.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel


class ModuleChange(BaseModel):
    id: int
    module: str
    status: str  # enabled | disabled | failed | quarantined | removed
    version: str | None = None

    def sse(self) -> str:
        return f"id: {self.id}\nevent: module\ndata: {self.model_dump_json()}\n\n"


class ModuleStateFeed:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[ModuleChange]]] = []
        self._lock = threading.Lock()

    def publish(self, module: str, status: str, version: str | None) -> ModuleChange:
        with self._lock:
            change = ModuleChange(id=next(self._ids), module=module, status=status, version=version)
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, change)
            except RuntimeError:  # that loop is closed: its subscriber is gone
                pass
        return change

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[ModuleChange]]:
        """A queue of the changes published from now on (call on the event loop that reads it)."""
        entry = (asyncio.get_running_loop(), asyncio.Queue[ModuleChange]())
        with self._lock:
            self._subscribers.append(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._subscribers.remove(entry)
