"""Concurrent writers on SQLite: every connection waits for the lock, retries, and answers JSON."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from tests.conftest import api_keys
from trafi_host.api import create_app
from trafi_host.commerce import models, service
from trafi_host.commerce.service import Commerce
from trafi_host.db import Database, engine
from trafi_host.db.engine import SQLITE_BUSY_TIMEOUT_MS
from trafi_host.project import Project

THREADS = 8
WRITES = 12


@pytest.fixture
def api(sqlite_project: Project) -> Iterator[TestClient]:
    key = api_keys(sqlite_project.database_url(), "acme")["acme"]
    with TestClient(create_app(sqlite_project)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def test_every_pooled_sqlite_connection_has_the_busy_timeout_and_foreign_keys(
    sqlite_project: Project,
) -> None:
    database = Database(sqlite_project.database_url())
    try:
        connections = [database.engine.connect() for _ in range(4)]
        try:
            for connection in connections:
                assert (
                    connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == SQLITE_BUSY_TIMEOUT_MS
                )
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        finally:
            for connection in connections:
                connection.close()
    finally:
        database.close()


def test_concurrent_writers_through_the_api_and_beside_it_get_no_5xx(
    api: TestClient, sqlite_project: Project
) -> None:
    # A second Database on the same file (another host process, a CLI command) writes too.
    other = Commerce(Database(sqlite_project.database_url()))
    statuses: Counter[int] = Counter()
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS + 1)

    def api_writer(n: int) -> None:
        start.wait()
        for i in range(WRITES):
            response = api.post(
                "/api/commerce/products", json={"sku": f"T{n}-{i}", "name": "Thing", "price_cents": 100 + i}
            )
            statuses[response.status_code] += 1
            response = api.post(
                "/api/commerce/customers", json={"email": f"c{n}-{i}@example.com", "name": "Cust"}
            )
            statuses[response.status_code] += 1

    def side_writer() -> None:
        start.wait()
        try:
            for i in range(WRITES * 2):
                other.create_product("acme", models.ProductIn(sku=f"SIDE-{i}", name="Side", price_cents=1))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=api_writer, args=(n,)) for n in range(THREADS - 1)]
    threads.append(threading.Thread(target=side_writer))
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join(timeout=120)
    other.database.close()
    assert not failures, failures
    assert statuses == Counter({201: (THREADS - 1) * WRITES * 2}), statuses
    products = api.get("/api/commerce/products", params={"limit": 1000}).json()
    assert len(products) == (THREADS - 1) * WRITES + WRITES * 2


@contextmanager
def write_lock_held(project: Project) -> Iterator[sqlite3.Connection]:
    """Another process's writer: holds SQLite's write lock until closed."""
    holder = sqlite3.connect(
        project.database_url().removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield holder
    finally:
        holder.close()


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> int:
    """A 200 ms busy timeout for the connections the app opens (5 s makes these tests slow)."""
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 200)
    return 200


def test_a_lock_held_past_every_retry_is_a_json_503_then_the_write_succeeds(
    sqlite_project: Project, short_busy_timeout: int
) -> None:
    key = api_keys(sqlite_project.database_url(), "acme")["acme"]
    product = {"sku": "A", "name": "A", "price_cents": 1}
    with TestClient(create_app(sqlite_project)) as api:
        api.headers["Authorization"] = f"Bearer {key}"
        with write_lock_held(sqlite_project):
            response = api.post("/api/commerce/products", json=product)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.json() == {
            "error": "the database is busy; try again shortly",
            "requestId": response.headers["x-request-id"],
        }
        assert api.post("/api/commerce/products", json=product).status_code == 201


def test_a_lock_released_between_attempts_is_retried_not_refused(
    sqlite_project: Project, short_busy_timeout: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = api_keys(sqlite_project.database_url(), "acme")["acme"]
    with TestClient(create_app(sqlite_project)) as api, write_lock_held(sqlite_project) as holder:
        api.headers["Authorization"] = f"Bearer {key}"
        backoffs: list[float] = []

        def release_then_wait(seconds: float) -> None:
            # The first attempt found the lock held past the busy timeout; now the holder commits.
            backoffs.append(seconds)
            holder.execute("ROLLBACK")

        monkeypatch.setattr(service.time, "sleep", release_then_wait)
        response = api.post("/api/commerce/products", json={"sku": "A", "name": "A", "price_cents": 1})
    assert response.status_code == 201, response.text
    assert len(backoffs) == 1
