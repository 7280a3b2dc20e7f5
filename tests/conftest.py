"""Shared fixtures: built components (once per session), projects on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.npm_registry import verdaccio_fixture
from trafi_host.build import build_if_stale
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.project import Project

REPO = Path(__file__).resolve().parents[1]
HELLO = REPO / "modules" / "hello"
TESTKIT = REPO / "tests" / "fixtures" / "modules" / "testkit"
POSTGRES_ADMIN_URL = os.environ.get(
    "TRAFI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After each test (its fixtures torn down), its garbage is collected and what survives goes
    to the collector's permanent generation, as `trafi serve` does with its started heap.

    Otherwise a full collection that lands inside a later test scans everything every earlier
    test left alive: measured at 1-2 s on this suite, long enough to eat a 250 ms or 1 s call
    deadline and fail a test on the host's pause rather than on what it checks."""
    outcome = yield
    gc.collect()
    gc.freeze()
    return outcome


@pytest.fixture(scope="session", autouse=True)
def shared_artifact_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One compiled-artifact cache for the session: each component compiles once."""
    path = tmp_path_factory.mktemp("artifacts")
    previous = os.environ.get("TRAFI_ARTIFACT_DIR")
    os.environ["TRAFI_ARTIFACT_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("TRAFI_ARTIFACT_DIR", None)
    else:
        os.environ["TRAFI_ARTIFACT_DIR"] = previous


# A real npm registry (verdaccio on 127.0.0.1), one per session: tests/npm_registry.py.
npm_registry = verdaccio_fixture()


@pytest.fixture(scope="session")
def hello_dir() -> Path:
    build_if_stale(HELLO)
    return HELLO


@pytest.fixture(scope="session")
def listener_dir() -> Path:
    folder = REPO / "tests" / "fixtures" / "modules" / "listener"
    build_if_stale(folder)
    return folder


@pytest.fixture(scope="session")
def testkit_dir() -> Path:
    build_if_stale(TESTKIT)
    return TESTKIT


WORLDKIT = REPO / "tests" / "fixtures" / "modules" / "worldkit"


@pytest.fixture(scope="session")
def worldkit_dir() -> Path:
    """A module of world 0.3.0: byte bodies, kv values, typed routes, views, and the
    declarations its config dictates."""
    build_if_stale(WORLDKIT)
    return WORLDKIT


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"trafi_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind the host supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Project:
    """An initialised project on each database kind."""
    monkeypatch.setenv("TRAFI_DATABASE_URL", database_url)
    return Project.init(tmp_path / "project")


@pytest.fixture
def sqlite_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.delenv("TRAFI_DATABASE_URL", raising=False)
    return Project.init(tmp_path / "project")


def snapshot(project: Project) -> dict[str, bytes]:
    """Every file of the project except the database and the command lock (coordination between
    processes, not project state): to prove a failure changed nothing."""
    files: dict[str, bytes] = {}
    for path in sorted(project.root.rglob("*")):
        if path.is_file() and "trafi.db" not in path.name and path.name != "command.lock":
            files[str(path.relative_to(project.root))] = path.read_bytes()
    return files


WRONG_WORLD = REPO / "tests" / "fixtures" / "wrong-world"


@pytest.fixture(scope="session")
def wrong_world_dir() -> Path:
    """A module folder whose component is real but built for another world."""
    import hashlib
    import shutil
    import subprocess
    import sys

    out = WRONG_WORLD / "dist" / "wrong-world.wasm"
    stamp = out.with_name(out.name + ".source-sha256")
    digest = hashlib.sha256(
        (WRONG_WORLD / "app.py").read_bytes() + (WRONG_WORLD / "wit" / "world.wit").read_bytes()
    ).hexdigest()
    if not (out.is_file() and stamp.is_file() and stamp.read_text() == digest):
        out.parent.mkdir(exist_ok=True)
        tool = shutil.which("componentize-py", path=str(Path(sys.executable).parent)) or "componentize-py"
        subprocess.run(
            [tool, "-q", "-d", "wit", "-w", "greeter", "componentize", "app", "-o", str(out)],
            cwd=WRONG_WORLD,
            check=True,
            env={**os.environ, "VIRTUAL_ENV": ""},
        )
        stamp.write_text(digest)
    return WRONG_WORLD


INTRUDER = REPO / "tests" / "fixtures" / "modules" / "intruder"


@pytest.fixture(scope="session")
def intruder_dir() -> Path:
    """A module that tries to reach files, environment and sockets it was not granted."""
    build_if_stale(INTRUDER)
    return INTRUDER


FETCHER = REPO / "tests" / "fixtures" / "modules" / "fetcher"


@pytest.fixture(scope="session")
def fetcher_dir() -> Path:
    """A module granted network (built for the module-with-network world)."""
    build_if_stale(FETCHER)
    return FETCHER


def install_modules(project: Project, *folders: Path) -> None:
    """Install module folders the way `trafi module add` does (validated, trial-started)."""
    from trafi_host.capabilities.kv.backend import MemoryKv
    from trafi_host.install import install_from_path
    from trafi_host.runtime import ModuleRuntime

    runtime = ModuleRuntime(project.artifacts_dir, host_capabilities(MemoryKv()))
    try:
        for folder in folders:
            install_from_path(project, folder, runtime)
    finally:
        runtime.close()


def api_keys(database_url: str, *tenants: str) -> dict[str, str]:
    """A tenant and an API key for each name, in that database (migrated first)."""
    from trafi_host.auth import create_api_key, create_tenant
    from trafi_host.db import Database

    database = Database(database_url)
    try:
        database.migrate()
        keys = {}
        for tenant in tenants:
            create_tenant(database, tenant)
            keys[tenant], _ = create_api_key(database, tenant)
        return keys
    finally:
        database.close()
