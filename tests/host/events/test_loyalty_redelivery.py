"""A payment.completed delivery that dies between the points service call and loyalty's marker is
delivered again, and the customer is awarded once (points' idempotency key, docs/events.md).

Two ways to get there, through the real host and the real modules:

- on SQLite, the ledger and the tables are set to what a worker killed at that instant
  leaves (the points entry committed; no note, no kv marker; the delivery `running` with
  its lease run out), and the host's sweeper and job worker take it from there;
- on PostgreSQL with a `trafi worker` process, the worker is really SIGKILLed at that
  instant: the test holds a SHARE lock on `trafi_order_notes`, so the handler stops in
  `add_order_note`, right after its points call committed, and the kill lands there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, delete, text, update

from tests.conftest import REPO, api_keys, install_modules, postgres_database
from tests.host.events.test_event_delivery import deliveries, post
from tests.host.events.test_worker_process import Worker
from tests.host.test_multi_host import REDIS_URL
from tests.polling import wait_for
from trafi_host.api import create_app
from trafi_host.build import build_if_stale
from trafi_host.capabilities.kv.sql_store import SqlKv
from trafi_host.commerce.tables import OrderNoteRow
from trafi_host.db import Database
from trafi_host.db.schema import utcnow
from trafi_host.events.deliveries import Delivery, DeliveryRow
from trafi_host.project import Project

POINTS, LOYALTY = REPO / "modules" / "points", REPO / "modules" / "loyalty"
NOTE = "50 loyalty points awarded"


def shop(project: Project) -> str:
    """points and loyalty installed; tenant acme's API key."""
    for folder in (POINTS, LOYALTY):
        build_if_stale(folder)
    install_modules(project, POINTS, LOYALTY)
    return api_keys(project.database_url(), "acme")["acme"]


def pay_an_order(client: TestClient) -> tuple[str, str]:
    """A 50 EUR order by a new customer, paid: (the customer's id, the order's id)."""
    mug = post(client, "products", {"sku": f"MUG-{uuid.uuid4().hex[:8]}", "name": "Mug", "price_cents": 1250})
    ada = post(client, "customers", {"email": f"ada-{uuid.uuid4().hex[:8]}@example.com", "name": "Ada"})
    order = post(
        client, "orders", {"customer_id": ada["id"], "lines": [{"product_id": mug["id"], "quantity": 4}]}
    )
    payment = post(client, "payments", {"order_id": order["id"]})
    assert client.post(f"/api/commerce/payments/{payment['id']}/complete").status_code == 200
    return ada["id"], order["id"]


def points_of(client: TestClient, customer: str) -> int:
    return int(client.get(f"/api/modules/points/v1/customers/{customer}").json()["points"])


def notes_of(client: TestClient, order: str) -> list[str]:
    return [n["text"] for n in client.get(f"/api/commerce/orders/{order}").json()["notes"]]


def reward_delivery(project: Project) -> Delivery:
    [delivery] = [
        d for d in deliveries(project) if (d.module, d.event_type) == ("loyalty", "payment.completed")
    ]
    return delivery


def ledger_entries(database_url: str) -> list[tuple[int, str]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT points, idempotency_key FROM mod_points__entry"))
            return [(int(points), str(key)) for points, key in rows]
    finally:
        engine.dispose()


def marker(database_url: str, event_id: str) -> bytes | None:
    database = Database(database_url)
    try:
        return SqlKv(database).get("acme", "loyalty", f"rewarded:{event_id}")
    finally:
        database.close()


def awarded_for_payments(metrics: str) -> float:
    [value] = [
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "trafi_module_loyalty_points_awarded_total"
        and (sample.labels.get("reason"), sample.labels.get("tenant")) == ("payment", "acme")
    ]
    return value


def test_a_delivery_left_running_after_the_points_call_is_redelivered_and_awards_once(
    sqlite_project: Project,
) -> None:
    key = shop(sqlite_project)
    with TestClient(create_app(sqlite_project)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        customer, order = pay_an_order(client)
        # The note comes before the marker and the delivery's outcome: wait for the outcome.
        wait_for(
            lambda: notes_of(client, order) == [NOTE] and reward_delivery(sqlite_project).status == "done",
            message="the first delivery to finish",
        )
        first = reward_delivery(sqlite_project)
        assert (first.status, first.attempts, points_of(client, customer)) == ("done", 1, 50)

        # What a worker SIGKILLed right after its points call leaves: the points entry is
        # committed; the note, loyalty's marker and the delivery's outcome never were.
        database = Database(sqlite_project.database_url())
        try:
            assert SqlKv(database).delete("acme", "loyalty", f"rewarded:{first.event_id}")
            past = utcnow() - timedelta(seconds=60)
            with database.session() as session:
                session.execute(delete(OrderNoteRow).where(OrderNoteRow.order_id == order))
                session.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.id == first.id)
                    .values(status="running", lease_until=past, updated_at=past, next_attempt_at=past)
                )
        finally:
            database.close()
        assert notes_of(client, order) == []

        # The host's sweeper finds the delivery no worker holds and queues it; it runs again.
        wait_for(
            lambda: reward_delivery(sqlite_project).status == "done" and notes_of(client, order) == [NOTE],
            timeout=60,
            message="the sweeper to redeliver payment.completed",
        )
        again = reward_delivery(sqlite_project)
        assert (again.event_id, again.attempts) == (first.event_id, 2)
        assert points_of(client, customer) == 50
        metrics = client.get("/metrics").text
    assert ledger_entries(sqlite_project.database_url()) == [(50, f"payment:{first.event_id}")]
    # Counted by the delivery that added them; the replay added none.
    assert awarded_for_payments(metrics) == 50


@pytest.fixture
def distributed_shop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Project, str, Worker]]:
    """PostgreSQL + Redis; the host queues async deliveries, a `trafi worker` process runs them."""
    with postgres_database() as url:
        monkeypatch.setenv("TRAFI_DATABASE_URL", url)
        monkeypatch.setenv("TRAFI_REDIS_URL", REDIS_URL)
        monkeypatch.setenv("TRAFI_JOB_QUEUE", f"trafi-events-{uuid.uuid4().hex[:12]}")
        project = Project.init(tmp_path / "shop")
        config = project.load_config()
        config.host.job_workers = 0
        project.save_config(config)
        key = shop(project)
        worker = Worker(project.root, tmp_path / "worker.log")
        try:
            yield project, key, worker
        finally:
            worker.stop()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_worker_killed_right_after_the_points_call_is_redelivered_and_awards_once(
    distributed_shop: tuple[Project, str, Worker],
) -> None:
    project, key, worker = distributed_shop
    url = project.database_url()
    notes_lock = create_engine(url)
    try:
        with TestClient(create_app(project)) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            worker.start()
            with notes_lock.connect() as holder:
                # Reads of the notes go on; the handler's insert of its note waits for this lock.
                holder.execute(text("LOCK TABLE trafi_order_notes IN SHARE MODE"))
                customer, order = pay_an_order(client)

                def stopped_after_the_points_call() -> bool:
                    with notes_lock.connect() as connection:
                        waiting = connection.execute(
                            text(
                                "SELECT count(*) FROM pg_locks "
                                "WHERE NOT granted AND relation = 'trafi_order_notes'::regclass"
                            )
                        ).scalar_one()
                    return waiting == 1 and len(ledger_entries(url)) == 1

                wait_for(
                    stopped_after_the_points_call,
                    interval=0.02,
                    message="the handler to add the points and wait on the notes",
                )
                worker.kill()
                holder.rollback()
            event_id = reward_delivery(project).event_id
            assert reward_delivery(project).status == "running"
            assert points_of(client, customer) == 50  # awarded by the delivery that died
            assert notes_of(client, order) == []  # its note was never committed
            assert marker(url, event_id) is None

            worker.start()  # the lease runs out; the new worker's sweeper queues the delivery again
            wait_for(
                lambda: reward_delivery(project).status == "done",
                timeout=120,
                message="the restarted worker to deliver payment.completed again",
            )
            assert (reward_delivery(project).attempts, points_of(client, customer)) == (2, 50)
            assert notes_of(client, order) == [NOTE]
    finally:
        notes_lock.dispose()
    assert ledger_entries(url) == [(50, f"payment:{event_id}")]
