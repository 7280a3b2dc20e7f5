"""Counting requests per (module, tenant) in a moving window: in memory, or shared (Redis, or a
file the workers of one `trafi serve --workers N` share).

The window is a moving one: never more than the rate's count in any span of its
period, so a burst at the end of one minute and the start of the next is still
one burst. `limits` parses the rate and names the counter; the counting is ours,
measured cheaper than its storages on a busy host: in memory a deque per counter
(memory_window.py), in Redis one script that counts and reads in one round trip
(redis_window.py), in the workers' file one transaction (file_window.py).

Each tenant has its own counter per module, named by `limits`
(`LIMITER/<module>/<tenant>/<count>/<n>/<unit>`, under `<prefix>:` in Redis): one
tenant's burst never throttles another. A changed rate starts a fresh counter.

When Redis (or the file) fails the request is let through (fail open: a rate limit protects
the modules, and an outage of Redis must not take every module route down with
it), the failure is counted (`trafi_rate_limit_errors_total`) and logged once,
and Redis is tried again after `RETRY_AFTER_ERROR_SECONDS`.
"""

from __future__ import annotations

import functools
import logging
import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from limits import RateLimitItem
from redis.exceptions import RedisError

from .file_window import FileMovingWindow
from .memory_window import MemoryMovingWindow
from .rate import parse_rate
from .redis_window import RedisMovingWindow

log = logging.getLogger("trafi.rate_limits")
RETRY_AFTER_ERROR_SECONDS = 2.0
REDIS_TIMEOUT_SECONDS = 1.0
# The workers take turns on the file; one waiting longer than this lets its request through.
FILE_TIMEOUT_SECONDS = 1.0


@functools.lru_cache(maxsize=1024)
def _item(rate: str) -> RateLimitItem:
    return parse_rate(rate)


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one request against its rate, and the headers that tell the caller."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the oldest request counted leaves the window (room for one more)
    window_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
            "RateLimit-Policy": f"{self.limit};w={self.window_seconds}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_seconds))
        return headers


class ModuleRateLimiter:
    """One per app (its storage's connections belong to the app's event loop); `close()` it."""

    def __init__(
        self, redis_url: str | None = None, prefix: str = "trafi-ratelimit", shared_file: Path | None = None
    ) -> None:
        """`shared_file`: without Redis, count in this file (the workers of one `trafi serve`);
        with neither, in this process's memory."""
        self.redis_url = redis_url
        self.prefix = prefix
        self.errors = 0
        self._failing_until = 0.0
        self._redis = RedisMovingWindow(redis_url, prefix, REDIS_TIMEOUT_SECONDS) if redis_url else None
        self._file = (
            FileMovingWindow(shared_file, FILE_TIMEOUT_SECONDS) if shared_file and not redis_url else None
        )
        self._memory = MemoryMovingWindow()

    @property
    def storage(self) -> str:
        """Where the counts are: `redis`, `file` (shared by the workers) or `memory`."""
        return "redis" if self._redis is not None else "file" if self._file is not None else "memory"

    async def hit(self, rate: str, module: str, tenant: str) -> RateDecision | None:
        """Count one request of `tenant` on `module` against `rate`; None: not counted (the
        shared storage failed)."""
        if self._failing_until > time.monotonic():
            return None
        item = _item(rate)
        try:
            if self._redis is not None:
                allowed, reset_at, remaining = await self._redis.hit(item, module, tenant)
            elif self._file is not None:
                # On the loop: one local transaction, shorter than a thread hop would be.
                allowed, reset_at, remaining = self._file.hit(item, module, tenant)
            else:
                return self._decision(item, *self._memory.hit(item, module, tenant))
        except (RedisError, OSError, sqlite3.Error) as error:
            self.errors += 1
            if self._failing_until == 0.0:
                log.warning("rate_limit_storage_failed error=%s requests pass unlimited", error)
            self._failing_until = time.monotonic() + RETRY_AFTER_ERROR_SECONDS
            return None
        if self._failing_until:
            log.info("rate_limit_storage_recovered")
            self._failing_until = 0.0
        return self._decision(item, allowed, reset_at, remaining)

    @staticmethod
    def _decision(item: RateLimitItem, allowed: bool, reset_at: float, remaining: int) -> RateDecision:
        window = item.get_expiry()
        # When the oldest request counted leaves the window: one more request fits then.
        reset = min(window, max(0, math.ceil(reset_at - time.time())))
        return RateDecision(allowed, item.amount, max(0, remaining), reset, window)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.close()
        if self._file is not None:
            self._file.close()
