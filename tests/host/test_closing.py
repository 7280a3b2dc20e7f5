"""The database, the runtime and the module host close on leaving a `with`, and closing twice is harmless."""

from __future__ import annotations

import threading
from pathlib import Path

from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.db import Database
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project
from trafi_host.runtime import ModuleRuntime


def _epoch_threads() -> int:
    return sum(thread.name == "trafi-epoch" for thread in threading.enumerate())


def test_database(tmp_path: Path) -> None:
    with Database(f"sqlite:///{tmp_path / 'trafi.db'}") as database:
        database.migrate()
    database.close()


def test_runtime(shared_artifact_cache: Path) -> None:
    before = _epoch_threads()
    with ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv())) as runtime:
        assert _epoch_threads() == before + 1
    assert _epoch_threads() == before
    runtime.close()


def test_module_host(sqlite_project: Project) -> None:
    before = _epoch_threads()
    with ModuleHost(sqlite_project) as host:
        host.reconcile()
        assert _epoch_threads() == before + 1
    assert _epoch_threads() == before
    host.close()
