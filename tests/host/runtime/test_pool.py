"""The instance pool's bookkeeping, with stand-in instances (no component needed)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, cast

from trafi_host.runtime.instance import ModuleInstance
from trafi_host.runtime.pool import InstancePool

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
