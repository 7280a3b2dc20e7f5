"""Per-module share of the wasm worker threads.

A guest blocked inside a WASI host call (a long `time.sleep`, say) is out of
reach of the epoch deadline until that call returns, so its worker thread stays
busy after the caller got its 504. Capping how many workers one module may hold
keeps the other modules served whatever one module does.

Callers over the cap wait in FIFO order, within their deadline; a worker that
finishes hands its slot straight to the first waiter.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque


class WorkerBulkhead:
    def __init__(self, workers: int, share: float = 0.5) -> None:
        self.per_module = max(1, int(workers * share))
        self.rejected = 0
        self._busy: dict[str, int] = {}
        self._waiters: dict[str, deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]] = {}
        self._lock = threading.Lock()

    def busy(self, module: str) -> int:
        with self._lock:
            return self._busy.get(module, 0)

    def try_enter(self, module: str) -> bool:
        with self._lock:
            if self._busy.get(module, 0) >= self.per_module:
                return False
            self._busy[module] = self._busy.get(module, 0) + 1
            return True

    async def enter(self, module: str, deadline: float) -> bool:
        """Take a worker slot of this module, waiting (FIFO) until `deadline` at most."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._busy.get(module, 0) < self.per_module:
                self._busy[module] = self._busy.get(module, 0) + 1
                return True
            granted: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(module, deque()).append((loop, granted))
        try:
            await asyncio.wait_for(granted, max(0.0, deadline - time.monotonic()))
            return True
        except TimeoutError:
            with self._lock:
                queue = self._waiters.get(module)
                if queue is not None and (loop, granted) in queue:
                    queue.remove((loop, granted))
                    self.rejected += 1
                    return False
            # The slot was handed over as the wait ended: `_grant` passes it on.
            self.rejected += 1
            return False

    def leave(self, module: str) -> None:
        """Called by the worker thread when the wasm call has really ended."""
        with self._lock:
            queue = self._waiters.get(module)
            if queue:
                loop, granted = queue.popleft()
                loop.call_soon_threadsafe(self._grant, module, granted)
                return  # the slot moves to the waiter: busy count unchanged
            self._busy[module] -= 1

    def _grant(self, module: str, granted: asyncio.Future[None]) -> None:
        if granted.done():  # the waiter gave up meanwhile: pass the slot on
            self.leave(module)
        else:
            granted.set_result(None)
