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
first waiter whose tenant is under its cap. A waiter is what to start once its slot
is taken, run by the thread that freed it: under load a worker thread that ends a
call starts the next one queued for that module itself (`enter_or_queue`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from functools import partial

log = logging.getLogger("trafi.runtime")


class Waiter:
    """A caller queued for a slot: `start` runs once the slot is taken for it, on the thread that
    freed the slot, outside the bulkhead's lock."""

    __slots__ = ("start", "tenant")

    def __init__(self, tenant: str, start: Callable[[], None]) -> None:
        self.tenant = tenant
        self.start = start


class WorkerBulkhead:
    def __init__(self, workers: int, share: float = 0.5, tenant_share: float = 0.5) -> None:
        self.per_module = max(1, int(workers * share))
        self.per_tenant = max(1, int(self.per_module * tenant_share))
        self.rejected = 0
        self._busy: Counter[str] = Counter()
        self._busy_tenant: Counter[tuple[str, str]] = Counter()
        self._waiters: dict[str, deque[Waiter]] = {}
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

    def enter_or_queue(self, module: str, tenant: str, start: Callable[[], None]) -> Waiter | None:
        """Takes a slot now (None: the caller goes on), or queues `start` (FIFO), which then runs
        once a slot is taken for it, on the thread whose `leave` freed it. A worker thread that
        finishes a call so starts the next queued one itself, without a trip through the event
        loop. Give up with `withdraw`."""
        with self._lock:
            if self._fits(module, tenant):
                self._take(module, tenant)
                return None
            waiter = Waiter(tenant, start)
            self._waiters.setdefault(module, deque()).append(waiter)
            return waiter

    def withdraw(self, module: str, waiter: Waiter) -> bool:
        """Gives up a queued wait: True if it was still queued (no slot was taken for it, and it
        counts as rejected); False if its slot was taken already (its `start` runs or ran)."""
        with self._lock:
            queue = self._waiters.get(module)
            if queue is None or waiter not in queue:
                return False
            queue.remove(waiter)
            self.rejected += 1
            return True

    async def enter(self, module: str, deadline: float, tenant: str = "") -> bool:
        """Take a slot, waiting (FIFO) until `deadline` at most; False when none came in time."""
        loop = asyncio.get_running_loop()
        granted: asyncio.Future[None] = loop.create_future()
        waiter = self.enter_or_queue(
            module, tenant, partial(_call_soon_threadsafe, loop, _grant, granted, self, module, tenant)
        )
        if waiter is None:
            return True
        # A timer on the loop rather than `asyncio.wait_for`, which wraps the wait in a task and
        # chained futures.
        timer = loop.call_at(loop.time() + max(0.0, deadline - time.monotonic()), _expire, granted)
        try:
            await granted
            return True
        except TimeoutError:
            # Not withdrawn: the slot was taken as the wait ended, and `_grant` passes it on.
            self.withdraw(module, waiter)
            return False
        finally:
            timer.cancel()

    def enter_blocking(self, module: str, deadline: float, tenant: str = "") -> bool:
        """`enter` for a thread (a sync event delivery): blocks until a slot or `deadline`."""
        granted = threading.Event()
        waiter = self.enter_or_queue(module, tenant, granted.set)
        if waiter is None:
            return True
        if granted.wait(max(0.0, deadline - time.monotonic())):
            return True
        return not self.withdraw(module, waiter)  # else granted just as the wait ended

    def leave(self, module: str, tenant: str = "") -> None:
        """Called when the wasm call has really ended; the slot goes to the first waiter that fits."""
        with self._lock:
            self._busy[module] -= 1
            self._busy_tenant[(module, tenant)] -= 1
            granted = self._hand_over(module)
        for waiter in granted:
            try:
                waiter.start()
            except Exception:  # one caller's failure to start never costs the others their slot
                log.exception("starting a call queued for module %s failed", module)

    def _hand_over(self, module: str) -> list[Waiter]:
        """The waiters (FIFO, each under its tenant's cap) given the free slots, taken for them."""
        queue = self._waiters.get(module)
        granted: list[Waiter] = []
        if not queue:
            return granted
        for waiter in list(queue):
            if self._busy[module] >= self.per_module:
                break
            if not self._fits(module, waiter.tenant):
                continue
            queue.remove(waiter)
            self._take(module, waiter.tenant)
            granted.append(waiter)
        return granted


def _call_soon_threadsafe(
    loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: object
) -> None:
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:  # the loop is closed: nobody waits for the slot any more
        pass


def _grant(granted: asyncio.Future[None], bulkhead: WorkerBulkhead, module: str, tenant: str) -> None:
    if granted.done():  # the waiter gave up meanwhile: pass the slot on
        bulkhead.leave(module, tenant)
    else:
        granted.set_result(None)


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())
