"""Live instances: a few per (tenant, module), created lazily, bounded by an LRU.

A Store serves one call at a time, so concurrent requests for the same
(tenant, module) check out different instances, up to the module's
`instancesPerTenant`; beyond that they wait, within their deadline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from .instance import ModuleInstance

log = logging.getLogger("trafi.pool")

PoolKey = tuple[str, str, str]  # tenant, module name, the image's load id


class PoolTimeout(Exception):
    """No instance became free before the call's deadline."""


@dataclass
class PoolStats:
    created: int = 0
    evicted: int = 0
    dropped_unhealthy: int = 0
    retired: int = 0
    abandoned: int = 0


class InstancePool:
    def __init__(self, max_live: int, destroy_timeout_ms: float = 200) -> None:
        self.max_live = max_live
        self.destroy_timeout_ms = destroy_timeout_ms
        self.stats = PoolStats()
        self._idle: OrderedDict[PoolKey, list[ModuleInstance]] = OrderedDict()
        self._live: dict[PoolKey, int] = {}
        self._total = 0
        # Every call checks an instance out and back in: the plain lock is entered in C, and the
        # condition built on it is notified only when a caller is waiting for an instance.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._waiting = 0
        # Modules unloaded (digest None) or versions retired by a swap while calls were in
        # flight: their instances are destroyed on release instead of going back to the pool.
        self._closed: set[tuple[str, str | None]] = set()

    @property
    def live(self) -> int:
        return self._total

    def live_by_module(self) -> dict[str, int]:
        with self._lock:
            counts: dict[str, int] = {}
            for (_, module, _), n in self._live.items():
                counts[module] = counts.get(module, 0) + n
            return counts

    def live_for(self, tenant: str, module: str) -> int:
        with self._lock:
            return sum(n for (t, m, _), n in self._live.items() if t == tenant and m == module)

    def tenants_of(self, module: str, load_id: str) -> list[str]:
        """The tenants with live instances of one load of `module`."""
        with self._lock:
            return sorted(
                {t for (t, m, load), n in self._live.items() if m == module and load == load_id and n}
            )

    def acquire(
        self,
        key: PoolKey,
        per_key_max: int,
        create: Callable[[], ModuleInstance],
        deadline: float,
    ) -> ModuleInstance:
        evicted: list[ModuleInstance] = []
        try:
            with self._lock:
                while True:
                    idle = self._idle.get(key)
                    if idle:
                        instance = idle.pop()
                        self._idle.move_to_end(key)
                        return instance
                    if self._live.get(key, 0) < per_key_max:
                        if self._total >= self.max_live:
                            victim = self._pop_lru_idle()
                            if victim is not None:
                                evicted.append(victim)
                        if self._total < self.max_live:
                            self._live[key] = self._live.get(key, 0) + 1
                            self._total += 1
                            break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise PoolTimeout(f"no free instance for {key[1]} (tenant {key[0]})")
                    self._waiting += 1
                    try:
                        self._cond.wait(remaining)
                    finally:
                        self._waiting -= 1
        finally:
            for victim in evicted:
                self._destroy(victim)
        try:
            instance = create()
        except BaseException:
            self._forget(key)
            raise
        self.stats.created += 1
        return instance

    def release(self, key: PoolKey, instance: ModuleInstance) -> None:
        if not instance.healthy:
            self.stats.dropped_unhealthy += 1
            instance.close()
            self._forget(key)
            return
        if instance.worn_out or (key[1], None) in self._closed or (key[1], key[2]) in self._closed:
            self.stats.retired += 1
            self._forget(key)
            self._destroy(instance)
            return
        with self._lock:
            self._idle.setdefault(key, []).append(instance)
            self._idle.move_to_end(key)
            if self._waiting:
                self._cond.notify_all()

    def abandon(self, key: PoolKey, instance: ModuleInstance) -> None:
        """Its call was abandoned while the guest is still blocked in it: its place in the pool is
        free now, the instance is never used again; its thread closes it on return (`close`)."""
        instance.healthy = False
        self.stats.abandoned += 1
        self._forget(key)

    def borrow_idle(self, module: str, load_id: str) -> list[tuple[PoolKey, ModuleInstance]]:
        """The most recently used idle instance of each tenant of one load of a module, checked
        out: release each after use."""
        with self._lock:
            taken = []
            for key, idle in self._idle.items():
                if key[1] == module and key[2] == load_id and idle:
                    taken.append((key, idle.pop()))
            return taken

    def reopen(self, module: str, load_id: str | None = None) -> None:
        """`module` (its load `load_id`) serves again: a load retired earlier may come back."""
        with self._lock:
            self._closed.discard((module, None))
            if load_id is not None:
                self._closed.discard((module, load_id))

    def drop(self, module: str, tenant: str | None = None, load_id: str | None = None) -> int:
        """Destroy idle instances of a module (disable, reload), or of one load of it (`load_id`:
        the one a swap replaced). Busy ones end on release."""
        victims: list[ModuleInstance] = []
        with self._lock:
            if tenant is None:
                self._closed.add((module, load_id))
            keys = [
                k
                for k in self._idle
                if k[1] == module
                and (tenant is None or k[0] == tenant)
                and (load_id is None or k[2] == load_id)
            ]
            for key in keys:
                idle = self._idle.pop(key)
                if not idle:
                    # Emptied by a checkout, whose instance may since have died and been
                    # forgotten: nothing here to count off.
                    continue
                victims.extend(idle)
                self._live[key] -= len(idle)
                if self._live[key] <= 0:
                    del self._live[key]
            self._total -= len(victims)
            if self._waiting:
                self._cond.notify_all()
        for victim in victims:
            self._destroy(victim)
        return len(victims)

    def close(self) -> None:
        with self._lock:
            victims = [instance for idle in self._idle.values() for instance in idle]
            self._idle.clear()
            self._live.clear()
            self._total = 0
        for victim in victims:
            self._destroy(victim)

    def _pop_lru_idle(self) -> ModuleInstance | None:
        for key, idle in self._idle.items():
            if idle:
                victim = idle.pop(0)
                if not idle:
                    del self._idle[key]
                self._live[key] -= 1
                self._total -= 1
                self.stats.evicted += 1
                return victim
        return None

    def _forget(self, key: PoolKey) -> None:
        with self._lock:
            self._live[key] = self._live.get(key, 1) - 1
            if self._live[key] <= 0:
                self._live.pop(key, None)
            self._total -= 1
            if self._waiting:
                self._cond.notify_all()

    def _destroy(self, instance: ModuleInstance) -> None:
        try:
            instance.destroy(self.destroy_timeout_ms)
        except Exception as error:  # noqa: BLE001 - a failing destroy never blocks the unload
            log.warning("destroy of %s failed: %s", instance.image.name, error)
        finally:
            instance.close()
