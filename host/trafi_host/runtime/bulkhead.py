"""Fair shares of the wasm worker threads: per module, and per (tenant, module) within it.

A guest blocked inside a WASI host call (a long `time.sleep`, say) is out of
reach of the epoch deadline until that call returns, so its worker thread stays
busy after the caller got its answer. Two caps keep that contained:
- one module holds at most `share` of the workers, so the other modules are
  served whatever one module does;
- one tenant holds at most `tenant_share` of a module's slots, so one tenant's
  slow calls cannot deny that module to the other tenants.

Every call into a guest takes a slot: HTTP calls (waiting on the event loop)
and sync event handlers (waiting on the dispatching thread) alike. Callers over
a cap wait in FIFO order, within their deadline; a slot that frees goes to the
first waiter whose tenant is under its cap.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass


@dataclass(eq=False)
class _Waiter:
    tenant: str
    # Exactly one of the two: a caller waiting on an event loop (loop and future), or a thread
    # (event; made only for it: a loop's waiter, queued on every busy module call, needs none).
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[None] | None = None
    event: threading.Event | None = None


class WorkerBulkhead:
    def __init__(self, workers: int, share: float = 0.5, tenant_share: float = 0.5) -> None:
        self.per_module = max(1, int(workers * share))
        self.per_tenant = max(1, int(self.per_module * tenant_share))
        self.rejected = 0
        self._busy: Counter[str] = Counter()
        self._busy_tenant: Counter[tuple[str, str]] = Counter()
        self._waiters: dict[str, deque[_Waiter]] = {}
        self._lock = threading.Lock()

    def busy(self, module: str) -> int:
        with self._lock:
            return self._busy[module]

    def _fits(self, module: str, tenant: str) -> bool:
        return self._busy[module] < self.per_module and self._busy_tenant[(module, tenant)] < self.per_tenant

    def _take(self, module: str, tenant: str) -> None:
        self._busy[module] += 1
        self._busy_tenant[(module, tenant)] += 1

    def try_enter(self, module: str, tenant: str = "") -> bool:
        with self._lock:
            if not self._fits(module, tenant):
                return False
            self._take(module, tenant)
            return True

    async def enter(self, module: str, deadline: float, tenant: str = "") -> bool:
        """Take a slot, waiting (FIFO) until `deadline` at most; False when none came in time."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._fits(module, tenant):
                self._take(module, tenant)
                return True
            waiter = _Waiter(tenant, loop, loop.create_future())
            self._waiters.setdefault(module, deque()).append(waiter)
        assert waiter.future is not None
        # A timer on the loop rather than `asyncio.wait_for`, which wraps the wait in a task and
        # chained futures: under load most module calls queue here, each paying for it.
        timer = loop.call_at(loop.time() + max(0.0, deadline - time.monotonic()), _expire, waiter.future)
        try:
            await waiter.future
            return True
        except TimeoutError:
            with self._lock:
                self.rejected += 1
                queue = self._waiters.get(module)
                if queue is not None and waiter in queue:
                    queue.remove(waiter)
            # Otherwise the slot was handed over as the wait ended: `_grant` passes it on.
            return False
        finally:
            timer.cancel()

    def enter_blocking(self, module: str, deadline: float, tenant: str = "") -> bool:
        """`enter` for a thread (a sync event delivery): blocks until a slot or `deadline`."""
        with self._lock:
            if self._fits(module, tenant):
                self._take(module, tenant)
                return True
            waiter = _Waiter(tenant, event=threading.Event())
            self._waiters.setdefault(module, deque()).append(waiter)
        assert waiter.event is not None
        waiter.event.wait(max(0.0, deadline - time.monotonic()))
        with self._lock:
            if waiter.event.is_set():  # granted, perhaps just as the wait ended
                return True
            queue = self._waiters.get(module)
            if queue is not None and waiter in queue:
                queue.remove(waiter)
            self.rejected += 1
            return False

    def leave(self, module: str, tenant: str = "") -> None:
        """Called when the wasm call has really ended; the slot goes to the first waiter that fits."""
        with self._lock:
            self._busy[module] -= 1
            self._busy_tenant[(module, tenant)] -= 1
            self._hand_over(module)

    def _hand_over(self, module: str) -> None:
        queue = self._waiters.get(module)
        if not queue:
            return
        for waiter in list(queue):
            if not self._fits(module, waiter.tenant):
                continue
            queue.remove(waiter)
            self._take(module, waiter.tenant)
            if waiter.loop is not None:
                waiter.loop.call_soon_threadsafe(self._grant, module, waiter)
            elif waiter.event is not None:
                waiter.event.set()
            if self._busy[module] >= self.per_module:
                return

    def _grant(self, module: str, waiter: _Waiter) -> None:
        assert waiter.future is not None
        if waiter.future.done():  # the waiter gave up meanwhile: pass the slot on
            self.leave(module, waiter.tenant)
        else:
            waiter.future.set_result(None)


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())
