"""Running `trafi` as a real process (what concurrency and crash tests need), and checking that a
project's config, lock, module folders and module tables agree, with no debris."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from trafi_host.audit_log import AuditLog
from trafi_host.capabilities.db.migrations import MigrationRunner
from trafi_host.db import Database
from trafi_host.lifecycle import project_module_states
from trafi_host.project import Project
from trafi_host.project.debris import find_debris


def trafi_env(**extra: str) -> dict[str, str]:
    """The environment of a `trafi` process: this one's, on the project's own SQLite database."""
    env = {**os.environ, **extra}
    for name in ("TRAFI_DATABASE_URL", "TRAFI_REDIS_URL", "TRAFI_NPM_TOKEN"):
        env.pop(name, None)
    return env


def start_trafi(project: Project, *args: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """`trafi <args> -C <project>` in a new process, its stdout and stderr to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "trafi_cli", *args, "-C", str(project.root)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=trafi_env(**env),
        )


def run_trafi(project: Project, *args: str, log: Path, timeout: float = 300, **env: str) -> int:
    """Run it to the end; its exit code (negative: the signal that ended it)."""
    return start_trafi(project, *args, log=log, **env).wait(timeout)


def applied_migrations(project: Project, module: str) -> list[str]:
    with Database(project.database_url()) as database:
        return [applied.id for applied in MigrationRunner(database.engine).applied(module)]


def module_tables(project: Project, module: str) -> set[str]:
    with Database(project.database_url()) as database:
        return {t for t in inspect(database.engine).get_table_names() if t.startswith(f"mod_{module}__")}


def audit_actions(project: Project, module: str) -> list[str]:
    with Database(project.database_url()) as database:
        database.migrate()
        return [entry.action for entry in reversed(AuditLog(database).entries(module, 100))]


def assert_consistent(project: Project, installed: set[str]) -> None:
    """Config, lock and module folders list exactly `installed`; no journal, no debris."""
    config, lock = project.load_config(), project.load_lock()
    assert set(config.modules) == installed
    assert {name: m.digest for name, m in lock.modules.items()} == {
        name: e.digest for name, e in config.modules.items()
    }
    folders = {p.name for p in project.modules_dir.iterdir()} if project.modules_dir.is_dir() else set()
    assert folders == installed, folders
    assert not project.journal_path.exists()
    assert find_debris(project) == []
    with project_module_states(project) as states:
        assert set(states.load()) <= installed
