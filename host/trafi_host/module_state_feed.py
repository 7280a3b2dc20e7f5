"""Module state changes as this host applies them, to every `/api/admin/events` subscriber.

Published from whichever thread reconciles (the change watcher's, a request's) or
quarantines (a worker's); read on the server's event loop, through a `Broadcast`.
The dashboard refreshes its navigation on each change, whatever process or
command made it: the change reaches this host through the state table or the
config file like any other.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from contextlib import AbstractContextManager

from pydantic import BaseModel

from .broadcast import Broadcast


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
        self._lock = threading.Lock()
        self._changes = Broadcast[ModuleChange]()

    def publish(self, module: str, status: str, version: str | None) -> ModuleChange:
        with self._lock:
            change = ModuleChange(id=next(self._ids), module=module, status=status, version=version)
        self._changes.publish(change)
        return change

    def subscribe(self) -> AbstractContextManager[asyncio.Queue[ModuleChange]]:
        """A queue of the changes published from now on (call on the event loop that reads it)."""
        return self._changes.subscribe()
