"""The instance pool's bookkeeping, with stand-in instances (no component needed)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, cast

from trafi_host.runtime.instance import ModuleInstance
from trafi_host.runtime.pool import InstancePool, PoolTimeout

KEY = ("acme", "testkit", "digest")


@dataclass
class StandIn:
    healthy: bool = True
    worn_out: bool = False
    image: Any = field(default_factory=lambda: type("Image", (), {"name": "testkit"})())

    def destroy(self, timeout_ms: float) -> None:
        pass

    def close(self) -> None:
        pass


def test_dropping_a_module_whose_checked_out_instance_died_keeps_the_counts() -> None:
    pool = InstancePool(max_live=4)
    deadline = time.monotonic() + 1

    def acquire() -> ModuleInstance:
        return pool.acquire(KEY, 2, lambda: cast(ModuleInstance, StandIn()), deadline)

    pool.release(KEY, acquire())  # one idle instance
    died = acquire()  # checked out again: its idle list is now empty
    cast(StandIn, died).healthy = False  # it traps
    pool.release(KEY, died)
    assert pool.drop("testkit") == 0  # a quarantine: used to fail on the empty list
    assert pool.live == 0
    pool.reopen("testkit")
    pool.release(KEY, acquire())
    assert pool.drop("testkit") == 1
    assert pool.live == 0


def test_a_caller_waiting_for_an_instance_gets_the_one_given_back_or_a_new_place() -> None:
    """At the per-tenant cap a caller waits; a release hands it the instance, an instance that
    died frees a place for a new one, and with neither it gives up at its deadline."""
    pool = InstancePool(max_live=4)
    made: list[StandIn] = []

    def make() -> ModuleInstance:
        made.append(StandIn())
        return cast(ModuleInstance, made[-1])

    held = pool.acquire(KEY, 1, make, time.monotonic() + 60)
    for ending in ("released", "died"):
        got: list[ModuleInstance] = []
        waiter = threading.Thread(
            target=lambda got=got: got.append(pool.acquire(KEY, 1, make, time.monotonic() + 60))
        )
        waiter.start()
        while pool._waiting == 0:  # it waits: the only place is taken
            time.sleep(0.001)
        if ending == "died":
            cast(StandIn, held).healthy = False
        pool.release(KEY, held)
        waiter.join(30)
        assert len(got) == 1
        assert (got[0] is held) == (ending == "released")
        held = got[0]
    assert len(made) == 2 and pool._waiting == 0
    started = time.monotonic()
    try:
        pool.acquire(KEY, 1, make, time.monotonic() + 0.05)
    except PoolTimeout:
        assert time.monotonic() - started >= 0.05
    else:
        raise AssertionError("a full pool gave out a second instance")
