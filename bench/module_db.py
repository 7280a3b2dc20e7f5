"""Scenario: module database operations from a module call, against the same statements run
natively by the host through SQLAlchemy Core, on SQLite and PostgreSQL.

The module (bench/modules/db_bench) inserts one row, inserts 100 rows in one
transaction, selects one row by id and selects 100 rows; the baseline runs the
same statements on the same table with SQLAlchemy Core, each in its own
transaction, as the host would for itself. The ratio is what the component
boundary, the typed conversion and the host's tenant guards cost together.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, MetaData, Table, create_engine, insert, select, text

from trafi_host.capabilities.db.host import ModuleDatabase
from trafi_host.capabilities.db.migrations import MigrationRunner
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.db import Database
from trafi_host.module_data import shipped_migrations
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal

from .boundary import median_us
from .fixtures import REPO, built
from .report import Row

DB_BENCH = REPO / "bench" / "modules" / "db_bench"
POSTGRES_ADMIN_URL = os.environ.get(
    "TRAFI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TENANT = "bench"


@contextmanager
def _databases(work: Path) -> Iterator[list[tuple[str, str]]]:
    """(label, URL) of a fresh SQLite file and, when the server answers, a fresh PostgreSQL database."""
    databases = [("SQLite", f"sqlite:///{work / 'module-db.sqlite'}")]
    name = f"trafi_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        databases.append(("PostgreSQL", POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"))
    except Exception:  # noqa: BLE001 - no server: the SQLite rows alone
        name = ""
    try:
        yield databases
    finally:
        if name:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(work: Path, quick: bool) -> list[Row]:
    repeat = 100 if quick else 1000
    folder, manifest = built(DB_BENCH)
    rows: list[Row] = []
    with _databases(work) as databases:
        for label, url in databases:
            if url.startswith("sqlite"):
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            rows += _measure(work, label, url, folder, manifest, repeat)
    return rows


def _measure(work: Path, label: str, url: str, folder: Path, manifest: object, repeat: int) -> list[Row]:
    from trafi_host.manifest.model import Manifest

    assert isinstance(manifest, Manifest)
    database = Database(url)
    database.migrate()
    module_db = ModuleDatabase.on(database.engine)
    MigrationRunner(database.engine).sync(
        manifest.name, manifest.version, shipped_migrations(manifest, folder)
    )
    capabilities = host_capabilities(MemoryKv(), db=module_db)
    runtime = ModuleRuntime(work / f"module-db-cache-{label}", capabilities)
    table = Table("mod_db_bench__item", MetaData(), autoload_with=database.engine)
    try:
        image = runtime.load_image(manifest, folder)
        instance = runtime.instantiate(image, TENANT, capabilities)

        def module_call(method: str, path: str) -> Callable[[], object]:
            request = image.world.request(ModuleRequest(method, path, TENANT, Principal("k")))

            def call() -> object:
                response = instance.handle(request, 10_000)
                assert response.status == 200, response
                return response

            return call

        def native(statement: Callable[[Connection], object]) -> Callable[[], object]:
            def call() -> object:
                with database.engine.begin() as connection:
                    return statement(connection)

            return call

        row = {"name": "widget", "price": 1250, "trafi_tenant": TENANT}
        hundred = [{"name": "widget", "price": n, "trafi_tenant": TENANT} for n in range(100)]
        one = select(table.c.id, table.c.name, table.c.price).where(
            table.c.trafi_tenant == TENANT, table.c.id == 1
        )
        many = (
            select(table.c.id, table.c.name, table.c.price)
            .where(table.c.trafi_tenant == TENANT)
            .order_by(table.c.id)
            .limit(100)
        )
        pairs = [
            ("insert 1 row", module_call("POST", "/insert"), native(lambda c: c.execute(insert(table), row))),
            (
                "insert 100 rows, one transaction",
                module_call("POST", "/insert100"),
                native(lambda c: c.execute(insert(table), hundred)),
            ),
            ("select 1 row by id", module_call("GET", "/select1"), native(lambda c: c.execute(one).all())),
            ("select 100 rows", module_call("GET", "/select100"), native(lambda c: c.execute(many).all())),
        ]
        results: list[Row] = []
        for name, from_module, baseline in pairs:
            count = repeat // 10 if "100 rows" in name and "insert" in name else repeat
            module_us = median_us(from_module, count)
            native_us = median_us(baseline, count)
            results.append(
                Row(
                    "module-db",
                    f"{label}: {name}, from a module call",
                    module_us,
                    "us",
                    native_us,
                    "same statement, SQLAlchemy Core in the host",
                    "",
                    f"{module_us - native_us:.0f} us over native",
                )
            )
        instance.close()
        return results
    finally:
        runtime.close()
        database.close()
