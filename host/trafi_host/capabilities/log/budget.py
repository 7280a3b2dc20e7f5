"""How much one (module, tenant) may log over time: a token bucket of bytes, shared by its instances.

The per-call line cap stops one call from flooding; this stops a module that
logs a little in every one of many calls (100 calls of 199 lines of 8 KiB
wrote 156 MiB in 10 s under the per-call cap alone). A line that does not fit
is dropped and counted; the first drop of a flood is one incident, so a module
that keeps flooding is quarantined by the incident monitor like any other
misbehaviour.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Sustained rate and burst of one (module, tenant): generous for diagnostics, far
# below what fills a disk or drowns the host's own log.
BYTES_PER_SECOND = 64 << 10
BURST_BYTES = 1 << 20


@dataclass
class _Bucket:
    tokens: float
    updated: float
    flooding: bool = False


@dataclass
class LogBudget:
    bytes_per_second: float = BYTES_PER_SECOND
    burst_bytes: float = BURST_BYTES
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)
    dropped: dict[tuple[str, str], int] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, module: str, tenant: str, size: int) -> tuple[bool, bool]:
        """(allowed, flood began): whether the line fits, and whether this drop starts a flood."""
        now = self.clock()
        key = (module, tenant)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.burst_bytes, now)
            bucket.tokens = min(
                self.burst_bytes, bucket.tokens + (now - bucket.updated) * self.bytes_per_second
            )
            bucket.updated = now
            if bucket.tokens >= size:
                bucket.tokens -= size
                bucket.flooding = False
                return True, False
            self.dropped[key] = self.dropped.get(key, 0) + 1
            began = not bucket.flooding
            bucket.flooding = True
            return False, began

    def dropped_lines(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self.dropped)


__all__ = ["BURST_BYTES", "BYTES_PER_SECOND", "LogBudget"]
