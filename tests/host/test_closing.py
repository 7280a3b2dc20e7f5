"""The database, the runtime and the module host close on leaving a `with`, and closing twice is harmless."""

from __future__ import annotations

from pathlib import Path

from tests.host.runtime.test_epoch_ticker import ended, new_ticker, ticker_threads
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.db import Database
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project
from trafi_host.runtime import ModuleRuntime


def test_database(tmp_path: Path) -> None:
    with Database(f"sqlite:///{tmp_path / 'trafi.db'}") as database:
        database.migrate()
    database.close()


def test_runtime(shared_artifact_cache: Path) -> None:
    before = ticker_threads()
    with ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv())) as runtime:
        ticker = new_ticker(before)
    assert ended(ticker)
    runtime.close()


def test_module_host(sqlite_project: Project) -> None:
    before = ticker_threads()
    with ModuleHost(sqlite_project) as host:
        host.reconcile()
        ticker = new_ticker(before)
    assert ended(ticker)
    host.close()
