"""Applying changes to a running host: the config file, the module state table, Redis announcements.

The CLI only writes (the config atomically, the state in the database) and
announces; every host process notices and reconciles. That works the same
whether a host is running or not: a host that was down reads both at start.

Three triggers, any of which is enough:
- the config file's identity changes (installs, updates, config edits);
- the module state table's content changes (enable, disable, quarantine from
  any process on any machine), polled;
- an announcement on Redis, when configured, so hosts apply a change at once;
  the table is then polled less often, as the safety net for a missed message.

Revoked API keys and the operator's rate limits are watched the same way: their
tables polled, and an announcement on the same channel to apply them at once.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError

from .auth.api_keys import revocations_signature
from .lifecycle.module_state import CHANNEL, RATE_LIMITS_CHANGED, REVOCATION
from .module_host import ModuleHost

log = logging.getLogger("trafi.change_watch")
POLL_SECONDS = 0.25
STATE_POLL_WITH_REDIS_SECONDS = 2.0
REDIS_RETRY_SECONDS = 2.0


class ChangeWatcher:
    def __init__(self, host: ModuleHost, poll_seconds: float = POLL_SECONDS) -> None:
        self.host = host
        self.poll_seconds = poll_seconds
        self.redis_url = host.project.redis_url()

    async def run(self) -> None:
        loops = [
            self._watch_config_file(),
            self._watch_state_table(),
            self._watch_revocations(),
            self._watch_rate_limits(),
        ]
        if self.redis_url:
            loops.append(self._listen_redis(self.redis_url))
        await asyncio.gather(*loops)

    async def _apply(self, why: str) -> None:
        try:
            changed = await run_in_threadpool(self.host.reconcile)
        except Exception:
            log.exception("could not apply a change (%s)", why)
            return
        if changed:
            log.info("change_applied trigger=%s changed=%s", why, ",".join(changed))

    def _config_signature(self) -> tuple[int, int, int] | None:
        try:
            stat = self.host.project.config_path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns)

    async def _watch_config_file(self) -> None:
        seen = self._config_signature()
        while True:
            await asyncio.sleep(self.poll_seconds)
            # An update's health window also passes with time alone (updates/health_gate.py).
            await run_in_threadpool(self._judge_windows)
            current = self._config_signature()
            if current != seen:
                seen = current
                await self._apply("config-file")

    def _judge_windows(self) -> None:
        try:
            self.host.gate.tick()
        except Exception:
            log.exception("could not judge the open update windows")

    async def _state_signature(self) -> str | None:
        try:
            return await run_in_threadpool(self.host.module_states.signature)
        except SQLAlchemyError as error:  # a database blip: keep serving what is loaded, try again
            log.warning("could not read the module state (%s); retrying", error)
            return None

    async def _watch_state_table(self) -> None:
        interval = STATE_POLL_WITH_REDIS_SECONDS if self.redis_url else self.poll_seconds
        seen = await self._state_signature()
        while True:
            await asyncio.sleep(interval)
            current = await self._state_signature()
            if current is not None and current != seen:
                seen = current
                await self._apply("module-state")

    async def _watch_revocations(self) -> None:
        """A revoked key stops working in this process within one poll (or at once on Redis):
        the verified-key cache is dropped whenever the set of revoked keys changes."""
        interval = STATE_POLL_WITH_REDIS_SECONDS if self.redis_url else self.poll_seconds
        seen = None
        while True:
            try:
                current = await run_in_threadpool(revocations_signature, self.host.database)
            except SQLAlchemyError as error:
                log.warning("could not read revoked API keys (%s); retrying", error)
                current = None
            if current is not None and current != seen:
                if seen is not None:
                    self.host.key_cache.clear()
                    log.info("api_keys_revoked cache=cleared")
                seen = current
            await asyncio.sleep(interval)

    async def _reload_rate_limits(self) -> None:
        try:
            if await run_in_threadpool(self.host.rate_policy.overrides.reload):
                log.info("rate_limits_reloaded")
        except SQLAlchemyError as error:
            log.warning("could not read the rate limit overrides (%s); retrying", error)

    async def _watch_rate_limits(self) -> None:
        """An operator's rate limit applies in this process within one poll (or at once on Redis)."""
        interval = STATE_POLL_WITH_REDIS_SECONDS if self.redis_url else self.poll_seconds
        while True:
            await asyncio.sleep(interval)
            await self._reload_rate_limits()

    async def _listen_redis(self, url: str) -> None:
        import redis.asyncio as aioredis
        from redis.exceptions import RedisError

        warned = False
        while True:
            client = aioredis.Redis.from_url(url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    if warned:
                        log.info("redis reachable again at %s", url)
                        # Whatever was announced meanwhile is in the table.
                        await self._apply("redis-reconnected")
                    warned = False
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        if message.get("data") in (REVOCATION, REVOCATION.encode()):
                            self.host.key_cache.clear()
                            continue
                        if message.get("data") in (RATE_LIMITS_CHANGED, RATE_LIMITS_CHANGED.encode()):
                            await self._reload_rate_limits()
                            continue
                        await self._apply("redis")
            except (RedisError, OSError) as error:
                if not warned:
                    log.warning("redis unavailable at %s (%s); polling the module state", url, error)
                    warned = True
                await asyncio.sleep(REDIS_RETRY_SECONDS)
            finally:
                await client.aclose()


async def watch_changes(host: ModuleHost, poll_seconds: float = POLL_SECONDS) -> None:
    await ChangeWatcher(host, poll_seconds).run()
