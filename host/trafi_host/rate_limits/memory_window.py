"""The moving window in this process's memory: a deque of timestamps per (module, tenant, rate).

The same window as redis_window.py (a request is counted while fewer than the
rate's count fall within the last period; the oldest of them says when one more
fits), with nothing running beside it. `limits`' memory storages start an
expiry timer thread (or, asyncio, a thread hop per key) every few calls; on a host
whose threads contend for the GIL, the event loop then waits for the new thread
to start: measured 1.3 to 3 ms per request (bench/rate_limits.py), against a few
microseconds here. Idle windows are dropped by a sweep every `SWEEP_EVERY` counts.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from limits import RateLimitItem

SWEEP_EVERY = 10_000


class MemoryMovingWindow:
    def __init__(self) -> None:
        # key -> (period in seconds, timestamps in the window, oldest first)
        self._windows: dict[str, tuple[int, deque[float]]] = {}
        self._counted = 0
        self._lock = threading.Lock()

    def hit(
        self, item: RateLimitItem, module: str, tenant: str, now: float | None = None
    ) -> tuple[bool, float, int]:
        """Count one request if the window has room: (counted, when one more fits, remaining).
        `now`: the request's time (tests pass their own; the default is the clock)."""
        now = time.time() if now is None else now
        expiry = item.get_expiry()
        key = item.key_for(module, tenant)
        with self._lock:
            entry = self._windows.get(key)
            if entry is None:
                entry = self._windows[key] = (expiry, deque())
            window = entry[1]
            while window and window[0] < now - expiry:
                window.popleft()
            counted = len(window) < item.amount
            if counted:
                window.append(now)
            self._counted += 1
            if self._counted % SWEEP_EVERY == 0:
                self._sweep(now)
            return counted, (window[0] if window else now) + expiry, item.amount - len(window)

    def _sweep(self, now: float) -> None:
        """Drop the windows whose newest request has left them (the lock is held)."""
        for key in [k for k, (expiry, w) in self._windows.items() if not w or w[-1] < now - expiry]:
            del self._windows[key]

    def __len__(self) -> int:
        return len(self._windows)
