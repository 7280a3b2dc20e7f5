"""points' ledger through the real host, on SQLite and PostgreSQL: concurrent adds with one key
land once, concurrent adds with their own keys all land, each on the balance before it.

Threads post loyalty's `POST /v1/orders` (which calls the `points.balance` service) at
once, released together by a barrier. The forced interleavings of the same races are in
modules/points/tests/test_idempotent_adds.py; redelivered events are
tests/host/events/test_loyalty_redelivery.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import REPO, install_modules
from trafi_host.api import create_app
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.build import build_if_stale
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project

POINTS = REPO / "modules" / "points"
LOYALTY = REPO / "modules" / "loyalty"
THREADS = 8


@pytest.fixture
def client(project: Project) -> Iterator[TestClient]:
    build_if_stale(POINTS)
    build_if_stale(LOYALTY)
    install_modules(project, POINTS, LOYALTY)
    module_host = ModuleHost(project)
    module_host.reconcile()
    create_tenant(module_host.database, "acme")
    key, _ = create_api_key(module_host.database, "acme")
    try:
        with TestClient(create_app(project, module_host)) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            yield client
    finally:
        module_host.close()


def all_at_once(client: TestClient, requests: list[tuple[dict[str, Any], dict[str, str]]]) -> list[Any]:
    """Posts every (order, headers) to loyalty from its own thread, released together."""
    answers: list[Any] = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def post(index: int) -> None:
        order, headers = requests[index]
        start.wait()
        response = client.post("/api/modules/loyalty/v1/orders", json=order, headers=headers)
        answers[index] = (response.status_code, response.json())

    threads = [threading.Thread(target=post, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def entries(project: Project) -> list[tuple[int, int, int, str | None]]:
    module_host = ModuleHost(project)
    try:
        with module_host.database.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT seq, points, balance, idempotency_key FROM mod_points__entry "
                    "WHERE customer = 'c1' ORDER BY seq"
                )
            )
            return [(int(r[0]), int(r[1]), int(r[2]), r[3]) for r in rows]
    finally:
        module_host.close()


def test_concurrent_retries_of_one_order_award_once(project: Project, client: TestClient) -> None:
    order = {"id": "o1", "customer": "c1", "total": 42}
    answers = all_at_once(client, [(order, {"Idempotency-Key": "checkout-7"})] * THREADS)
    assert answers == [(201, {"order": "o1", "balance": 42})] * THREADS
    assert client.get("/api/modules/points/v1/customers/c1").json() == {"customer": "c1", "points": 42}
    assert entries(project) == [(1, 42, 42, "request:checkout-7")]


def test_concurrent_orders_of_one_customer_each_land_on_the_balance_before_them(
    project: Project, client: TestClient
) -> None:
    requests = [({"id": f"o{n}", "customer": "c1", "total": n}, {}) for n in range(1, THREADS + 1)]
    answers = all_at_once(client, requests)
    assert all(status == 201 for status, _ in answers), answers
    ledger = entries(project)
    # One entry per order, numbered without a gap, each balance its predecessor's plus its points.
    assert [seq for seq, *_ in ledger] == list(range(1, THREADS + 1))
    assert sorted(key for *_, key in ledger) == sorted(f"order:o{n}" for n in range(1, THREADS + 1))
    running = 0
    for _seq, points, balance, _key in ledger:
        running += points
        assert balance == running
    # Each request was answered the balance its own entry left.
    assert sorted(body["balance"] for _, body in answers) == [balance for _, _, balance, _ in ledger]
    total = THREADS * (THREADS + 1) // 2
    assert client.get("/api/modules/points/v1/customers/c1").json() == {"customer": "c1", "points": total}
