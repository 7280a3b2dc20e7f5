"""Failed API-key attempts per source: past a few in a window, the source waits.

Guessing a key is hopeless (a 16-hex id and a 256-bit secret), but a source
that keeps presenting bad keys costs a database lookup each and fills the log;
after `limit` failures in `window` seconds it gets 429 with Retry-After until
the oldest failure leaves the window. Successful requests are never counted.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

FAILURES_PER_WINDOW = 20
WINDOW_SECONDS = 60.0
# Sources remembered at once: the oldest are forgotten first (an attacker spraying
# addresses cannot grow this without bound).
MAX_SOURCES = 10_000


@dataclass
class FailedAttempts:
    limit: int = FAILURES_PER_WINDOW
    window: float = WINDOW_SECONDS
    clock: Callable[[], float] = time.monotonic
    _failures: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, source: str) -> float | None:
        """Seconds the source must wait before it may try again, or None when it may now."""
        now = self.clock()
        with self._lock:
            failures = self._failures.get(source)
            if failures is None:
                return None
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) < self.limit:
                return None
            return failures[0] + self.window - now

    def failed(self, source: str) -> None:
        now = self.clock()
        with self._lock:
            failures = self._failures.setdefault(source, deque())
            self._failures.move_to_end(source)
            failures.append(now)
            while len(failures) > self.limit:
                failures.popleft()
            while len(self._failures) > MAX_SOURCES:
                self._failures.popitem(last=False)


__all__ = ["FAILURES_PER_WINDOW", "WINDOW_SECONDS", "FailedAttempts"]
