"""Per-module share of the wasm worker threads.

A guest blocked inside a WASI host call (a long `time.sleep`, say) is out of
reach of the epoch deadline until that call returns, so its worker thread stays
busy after the caller got its 504. Capping how many workers one module may hold
keeps the other modules served whatever one module does.
"""

from __future__ import annotations

import asyncio
import threading
import time


class WorkerBulkhead:
    def __init__(self, workers: int, share: float = 0.5) -> None:
        self.per_module = max(1, int(workers * share))
        self._busy: dict[str, int] = {}
        self._lock = threading.Lock()
        self.rejected = 0

    def busy(self, module: str) -> int:
        with self._lock:
            return self._busy.get(module, 0)

    def try_enter(self, module: str) -> bool:
        with self._lock:
            if self._busy.get(module, 0) >= self.per_module:
                return False
            self._busy[module] = self._busy.get(module, 0) + 1
            return True

    def leave(self, module: str) -> None:
        """Called by the worker thread when the wasm call has really ended."""
        with self._lock:
            self._busy[module] -= 1

    async def enter(self, module: str, deadline: float) -> bool:
        """Wait (within the deadline) for a worker slot of this module."""
        delay = 0.001
        while not self.try_enter(module):
            if time.monotonic() + delay >= deadline:
                self.rejected += 1
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.02)
        return True
