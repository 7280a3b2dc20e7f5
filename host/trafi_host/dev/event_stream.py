"""The dev server's live signal: reloads and errors, to every `/dev/events` subscriber.

Published from the watcher's thread, read on the server's event loop through a
`Broadcast`. A short history lets a client
that reconnects (`Last-Event-ID`) miss nothing.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from contextlib import AbstractContextManager
from typing import Literal

from pydantic import BaseModel

from ..broadcast import Broadcast
from .source_problem import SourceProblem

DevEventKind = Literal["reloaded", "error", "removed"]


class DevEvent(BaseModel):
    id: int
    kind: DevEventKind
    module: str
    at: float  # Unix time
    version: str | None = None
    reload_ms: float | None = None  # the save seen -> the new code serving
    problem: SourceProblem | None = None  # with `error`: the previous version keeps serving
    serving: str | None = None  # with `error`: the version still served, if any

    def sse(self) -> str:
        return f"id: {self.id}\nevent: {self.kind}\ndata: {self.model_dump_json(exclude_none=True)}\n\n"


class DevEventStream:
    def __init__(self, history: int = 100) -> None:
        self._ids = itertools.count(1)
        self._history: deque[DevEvent] = deque(maxlen=history)
        self._lock = threading.Lock()
        self._events = Broadcast[DevEvent]()

    def publish(
        self,
        kind: DevEventKind,
        module: str,
        *,
        version: str | None = None,
        reload_ms: float | None = None,
        problem: SourceProblem | None = None,
        serving: str | None = None,
    ) -> DevEvent:
        with self._lock:
            event = DevEvent(
                id=next(self._ids),
                kind=kind,
                module=module,
                at=time.time(),
                version=version,
                reload_ms=reload_ms,
                problem=problem,
                serving=serving,
            )
            self._history.append(event)
        # After the history: a subscriber reading `since` missed nothing, as its queue was
        # joined before it read the history (an event in both is told apart by its id).
        self._events.publish(event)
        return event

    def since(self, last_id: int) -> list[DevEvent]:
        with self._lock:
            return [event for event in self._history if event.id > last_id]

    def subscribe(self) -> AbstractContextManager[asyncio.Queue[DevEvent]]:
        """A queue of the events published from now on (call on the event loop that reads it)."""
        return self._events.subscribe()
