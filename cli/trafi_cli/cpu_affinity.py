"""One CPU per worker process of `trafi serve --workers N` (`--cpu-affinity auto`).

A worker is one event loop thread plus the wasm worker threads it hands module calls
to; the GIL lets one of them run Python at a time. Left to the kernel, each hand-over
between them (a call to a wasm thread, its answer back to the loop, the GIL passed)
wakes a thread on the other core: on the 2-core machine the benches run on, those
cross-core wake-ups cost more than the work handed over. Pinned, a worker's threads
hand over on one core, and the workers' cores are their own: at 8 connections with two
workers, 3,839 -> 5,591 module requests a second and 6,194 -> 7,215 for the native
route (docs/performance.md, "Several workers").

Pinned only when every worker can have a CPU of its own: with more workers than
CPUs, the kernel balances them better than a fixed share would.
"""

from __future__ import annotations

import logging
import os
from enum import StrEnum

log = logging.getLogger("trafi.serve")


class CpuAffinity(StrEnum):
    AUTO = "auto"  # one CPU of its own per worker, when there are enough
    OFF = "off"  # the kernel places the workers' threads


def allowed_cpus() -> list[int]:
    """The CPUs this process may run on, in order."""
    return sorted(os.sched_getaffinity(0))


def worker_cpus(workers: int, allowed: list[int]) -> list[int] | None:
    """The CPU of each worker slot (slot 1 first), or None when there are fewer CPUs than workers."""
    if workers > len(allowed):
        return None
    return allowed[:workers]


# Passes over a process's threads before giving up: a process still making threads faster than
# they are pinned (or a cpuset that keeps undoing the pin) must not hold up the supervisor.
PIN_PASSES = 10


def pin_process(pid: int, cpu: int) -> None:
    """Puts every thread of process `pid` on `cpu`. A thread inherits its maker's CPUs, so threads
    the process makes later are on it too; one made while this runs is caught by the next pass.
    Raises OSError when the process is gone, the CPU is not allowed, or the threads would not
    stay put within `PIN_PASSES` passes."""
    wanted = {cpu}
    for _ in range(PIN_PASSES):
        moved = 0
        for entry in os.scandir(f"/proc/{pid}/task"):
            tid = int(entry.name)
            try:
                if os.sched_getaffinity(tid) != wanted:
                    os.sched_setaffinity(tid, wanted)
                    moved += 1
            except ProcessLookupError:
                continue  # that thread ended meanwhile
        if moved == 0:
            return
    raise OSError(f"the threads of process {pid} did not stay on CPU {cpu}")


def pin_worker(pid: int, slot: int, cpus: list[int] | None) -> None:
    """`pin_process` for the worker in `slot` (1..N); a failure is logged and the worker runs unpinned."""
    if cpus is None:
        return
    cpu = cpus[slot - 1]
    try:
        pin_process(pid, cpu)
    except OSError as error:
        log.warning("worker %d (pid %d) could not be pinned to CPU %d: %s", slot, pid, cpu, error)
