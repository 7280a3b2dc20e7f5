"""Moves the objects a started host holds for good out of the cyclic collector's way.

A started host holds ~215K long-lived objects (its app, the loaded modules' wasmtime
objects and Python glue, SQLAlchemy's caches). Every full collection walks all of them:
~130 ms on this machine, a few times a minute under load, which is a 100+ ms p99 for
whichever requests it stalls and ~7% of a core. `gc.freeze()` once the app has started
moves them to the permanent generation, which collections skip; objects made later (an
instance started for a new tenant, a module installed live) are collected as usual.
Frozen objects that later become garbage are still freed by reference counting; only a
reference cycle among them would stay, and the startup heap is collected first so none
is frozen by mistake. Measured in docs/performance.md ("Under load: the collector, the
watchdog and the guest's dispatch").
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collects, then freezes what is left; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
