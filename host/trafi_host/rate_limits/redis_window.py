"""The moving window in Redis, counted and read in one round trip.

`limits`' Redis storage takes two (one script to count, another to read the
window for the headers), and on a busy host each round trip costs more than the
network: the event loop's thread waits for the GIL after every reply (measured in
bench/rate_limits.py: with a busy thread beside it, one count and read went from
1.8 ms to 21 ms). This script does both at once, on the same list `limits` keeps
(newest timestamp first, trimmed to the rate's count, under `<prefix>:<limits key>`).
"""

from __future__ import annotations

import time
from typing import Any

from limits import RateLimitItem

# KEYS[1]: the list of timestamps, newest first. ARGV: now, the rate's count, its period in seconds.
# Returns {1 if counted else 0, requests in the window, the oldest of them (a timestamp)}.
COUNT_AND_READ = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local expiry = tonumber(ARGV[3])
local since = now - expiry
local counted = 0
local last = redis.call('lindex', KEYS[1], limit - 1)
if not (last and tonumber(last) >= since) then
    redis.call('lpush', KEYS[1], ARGV[1])
    redis.call('ltrim', KEYS[1], 0, limit - 1)
    redis.call('expire', KEYS[1], math.ceil(expiry))
    counted = 1
end
local low, high, oldest = 0, redis.call('llen', KEYS[1]) - 1, -1
while low <= high do
    local mid = math.floor((low + high) / 2)
    if tonumber(redis.call('lindex', KEYS[1], mid)) >= since then
        oldest = mid
        low = mid + 1
    else
        high = mid - 1
    end
end
if oldest < 0 then
    return {counted, 0, ARGV[1]}
end
return {counted, oldest + 1, redis.call('lindex', KEYS[1], oldest)}
"""


class RedisMovingWindow:
    def __init__(self, url: str, prefix: str, timeout_seconds: float) -> None:
        import redis.asyncio

        self.prefix = prefix
        self.client = redis.asyncio.Redis.from_url(
            url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
        )
        self.script = self.client.register_script(COUNT_AND_READ)

    async def hit(
        self, item: RateLimitItem, module: str, tenant: str, now: float | None = None
    ) -> tuple[bool, float, int]:
        """Count one request if the window has room: (counted, when one more fits, remaining).
        `now`: the request's time (tests pass their own; the default is the clock)."""
        now = time.time() if now is None else now
        key = f"{self.prefix}:{item.key_for(module, tenant)}"
        reply: list[Any] = await self.script(keys=[key], args=[repr(now), item.amount, item.get_expiry()])
        counted, in_window, oldest = int(reply[0]), int(reply[1]), float(reply[2])
        return counted == 1, oldest + item.get_expiry(), item.amount - in_window

    async def close(self) -> None:
        await self.client.aclose()
