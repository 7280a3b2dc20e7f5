"""Chaos: the server and the worker are SIGKILLed under load; no order and no delivery is lost.

A project on PostgreSQL + Redis with the `listener` module subscribed async to
`order.created`, served by a real `trafi serve` process (which runs no jobs:
`jobWorkers` 0) and a real `trafi worker` process. Four threads post orders to
the served API, retrying a request that got no answer. Meanwhile the worker is
SIGKILLed (stopped first with SIGSTOP, and killed only while the ledger shows
it holding a running delivery, when that can be seen), the server is SIGKILLed
with requests in flight, and the worker is SIGKILLed again; each is restarted.

Then, once every delivery has settled:

- zero lost orders: every order the API answered 201 for is in the database;
- an order whose request got no answer (the server died mid-request) is either
  fully there (order, one `order.created` event, one done delivery) or absent,
  and there are no more such orders than unanswered requests;
- every order has exactly one `order.created` event, every event exactly one
  ledger delivery to the listener, and that delivery is `done` (zero lost
  deliveries, zero duplicated deliveries: a delivery is the ledger row, unique
  per (event, module));
- the listener's handler ran for every event id (its `seen:<type>:<id>` record).

What "duplicated" means for the handler's effect: delivery is at-least-once by
design. The handler adds a note to the order and then records the event; a
worker killed after the note was committed but before the ledger recorded the
outcome leaves the delivery `running`, its lease runs out, and another worker
runs the handler again for the same event id (the id is what a handler uses to
act once; the listener deliberately does not dedupe its note). So a second note
on an order is allowed only as such a redelivery: never more notes than the
delivery's attempts, and more than one note only on a delivery attempted more
than once (one whose worker was killed). Any other repeat is a duplicate and
fails the test.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from tests.conftest import api_keys, install_modules, postgres_database
from tests.host.events.test_worker_process import Worker
from tests.host.test_multi_host import REDIS_URL, HostProcess
from tests.polling import wait_for
from trafi_host.commerce.tables import OrderNoteRow, OrderRow
from trafi_host.events.deliveries import DeliveryRow
from trafi_host.events.outbox import OutboxRow
from trafi_host.project import Project

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TENANT = "acme"
TOTAL_ORDERS = 80
THREADS = 4
GIVE_UP_SECONDS = 180.0  # a request retried this long means the server never came back


@dataclass
class Load:
    """Threads posting orders, at most `allowed` of them so far: the chaos releases them in steps,
    so that each kill lands while requests are still being made."""

    base: str
    key: str
    customer_id: str
    product_id: str
    condition: threading.Condition = field(default_factory=threading.Condition)
    allowed: int = 0
    started: int = 0
    answered: list[str] = field(default_factory=list)  # order ids answered 201
    unanswered: int = 0  # attempts that got no answer (or a 5xx from a dying server): may exist
    errors: list[Exception] = field(default_factory=list)
    stopped: bool = False  # the test is over (failed): place nothing more, retry nothing

    def stop(self) -> None:
        with self.condition:
            self.stopped = True
            self.condition.notify_all()

    def allow(self, count: int) -> None:
        with self.condition:
            self.allowed = min(count, TOTAL_ORDERS)
            self.condition.notify_all()

    def _next(self) -> int | None:
        with self.condition:
            self.condition.wait_for(
                lambda: self.stopped or self.started < self.allowed or self.started >= TOTAL_ORDERS
            )
            if self.stopped or self.started >= TOTAL_ORDERS:
                return None
            self.started += 1
            return self.started

    def run(self) -> None:
        try:
            with httpx.Client(
                base_url=self.base, headers={"Authorization": f"Bearer {self.key}"}, timeout=30
            ) as client:
                while (number := self._next()) is not None:
                    order_id = self._place(client, number)
                    with self.condition:
                        self.answered.append(order_id)
        except Exception as error:  # noqa: BLE001 - collected for the test, not lost in a thread
            self.errors.append(error)

    def _place(self, client: httpx.Client, number: int) -> str:
        body = {
            "customer_id": self.customer_id,
            "lines": [{"product_id": self.product_id, "quantity": number}],
        }
        give_up = time.monotonic() + GIVE_UP_SECONDS
        while True:
            try:
                response = client.post("/api/commerce/orders", json=body)
            except httpx.ConnectError:
                pass  # refused: the server is down and the request was never sent
            except httpx.TransportError:
                with self.condition:
                    self.unanswered += 1  # sent, no answer: the server died with it in hand
            else:
                if response.status_code == 201:
                    return str(response.json()["id"])
                assert response.status_code in (502, 503, 504), response.text
                with self.condition:
                    self.unanswered += 1
            if self.stopped:
                raise AssertionError(f"order {number}: the test stopped before it was answered")
            if time.monotonic() > give_up:
                raise AssertionError(f"order {number}: no answer for {GIVE_UP_SECONDS:g} s")
            time.sleep(0.05)  # a retry's pause (not a wait for a condition)


def _running_async(engine: Engine, since: datetime) -> list[int]:
    """Async deliveries a worker claimed after `since` and holds now (its lease still runs)."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        return list(
            session.scalars(
                select(DeliveryRow.id).where(
                    DeliveryRow.mode == "async",
                    DeliveryRow.status == "running",
                    DeliveryRow.updated_at >= since,
                    DeliveryRow.lease_until > now,
                )
            )
        )


def _kill_worker(worker: Worker, engine: Engine, since: datetime) -> list[int]:
    """SIGKILL the worker, if possible while it holds a delivery: freeze it (SIGSTOP), look at the
    ledger, and kill it frozen if it holds one; else let it run a moment and look again. Returns
    the deliveries it held when killed (empty if none was seen in time: killed anyway)."""
    process = worker.process
    assert process is not None
    held: list[int] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        process.send_signal(signal.SIGSTOP)
        held = _running_async(engine, since)
        if held:
            break
        process.send_signal(signal.SIGCONT)
        time.sleep(0.02)  # let it work between looks
    process.send_signal(signal.SIGKILL)  # a frozen process dies at once too
    process.wait(10)
    return held


def _settled(engine: Engine) -> bool:
    """Every order.created event dispatched, and each of its deliveries finished one way or another."""
    with Session(engine) as session:
        events = session.scalars(select(OutboxRow).where(OutboxRow.type == "order.created")).all()
        if any(event.dispatched_at is None for event in events):
            return False
        rows = session.scalars(select(DeliveryRow).where(DeliveryRow.event_type == "order.created")).all()
        if len({row.event_id for row in rows}) < len(events):
            return False
        return all(row.status in ("done", "dead", "failed") for row in rows)


@pytest.fixture
def chaos_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with postgres_database() as url:
        monkeypatch.setenv("TRAFI_DATABASE_URL", url)
        monkeypatch.setenv("TRAFI_REDIS_URL", REDIS_URL)
        # A queue of its own: other runs on this Redis must not take these jobs.
        monkeypatch.setenv("TRAFI_JOB_QUEUE", f"trafi-events-{uuid.uuid4().hex[:12]}")
        yield url


@pytest.mark.timeout(600)  # three process starts and lease expiries, on a possibly busy machine
def test_killing_the_server_and_the_worker_under_load_loses_nothing(
    tmp_path: Path, listener_dir: Path, chaos_database: str
) -> None:
    project = Project.init(tmp_path / "shop")
    config = project.load_config()
    config.host.job_workers = 0  # the server only queues; the worker process runs every job
    project.save_config(config)
    install_modules(project, listener_dir)
    key = api_keys(chaos_database, TENANT)[TENANT]
    engine = create_engine(chaos_database)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = HostProcess(project.root, env, tmp_path / "server.log")
    worker = Worker(project.root, tmp_path / "worker-1.log")
    threads: list[threading.Thread] = []
    load: Load | None = None
    try:
        server.start()
        worker.start()
        with httpx.Client(
            base_url=server.base, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            product = client.post(
                "/api/commerce/products", json={"sku": "MUG", "name": "Mug", "price_cents": 1250}
            )
            customer = client.post(
                "/api/commerce/customers", json={"email": "ada@example.com", "name": "Ada"}
            )
        assert (product.status_code, customer.status_code) == (201, 201), (product.text, customer.text)
        load = Load(server.base, key, customer.json()["id"], product.json()["id"])
        threads = [threading.Thread(target=load.run, daemon=True) for _ in range(THREADS)]
        for thread in threads:
            thread.start()

        def answered(count: int) -> bool:
            assert load is not None
            if load.errors:
                raise load.errors[0]
            return len(load.answered) >= count

        # 1. The worker, while it runs a job.
        since = datetime.now(UTC)
        load.allow(25)
        wait_for(lambda: answered(10), timeout=120, message="10 orders answered")
        held_first = _kill_worker(worker, engine, since)
        since = datetime.now(UTC)
        worker.log = tmp_path / "worker-2.log"
        worker.start()

        # 2. The server, with requests in flight (the threads retry until it is back).
        load.allow(50)
        wait_for(lambda: answered(30), timeout=120, message="30 orders answered")
        assert server.process is not None
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        server.start()

        # 3. The worker again.
        load.allow(75)
        wait_for(lambda: answered(55), timeout=120, message="55 orders answered")
        held_second = _kill_worker(worker, engine, since)
        worker.log = tmp_path / "worker-3.log"
        worker.start()

        load.allow(TOTAL_ORDERS)
        for thread in threads:
            thread.join(GIVE_UP_SECONDS + 60)
        assert not load.errors, load.errors
        assert len(load.answered) == TOTAL_ORDERS

        wait_for(lambda: _settled(engine), timeout=240, message="every order.created delivery to settle")

        with Session(engine) as session:
            orders = set(session.scalars(select(OrderRow.id).where(OrderRow.tenant_id == TENANT)))
            events: dict[str, list[str]] = {}
            for event in session.scalars(select(OutboxRow).where(OutboxRow.type == "order.created")):
                events.setdefault(str(json.loads(event.payload)["order_id"]), []).append(event.id)
            ledger: dict[str, list[DeliveryRow]] = {}
            for row in session.scalars(select(DeliveryRow).where(DeliveryRow.event_type == "order.created")):
                ledger.setdefault(row.event_id, []).append(row)
            notes: dict[str, int] = {}
            for order_id in session.scalars(
                select(OrderNoteRow.order_id).where(OrderNoteRow.text.startswith("listener saw"))
            ):
                notes[order_id] = notes.get(order_id, 0) + 1
        with httpx.Client(
            base_url=server.base, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            seen = client.get("/api/modules/listener/v1/seen")
        assert seen.status_code == 200, seen.text

        # Zero lost orders; the unanswered ones are there or not, never more than were unanswered.
        assert len(set(load.answered)) == TOTAL_ORDERS
        assert set(load.answered) <= orders, sorted(set(load.answered) - orders)
        extra = orders - set(load.answered)
        assert len(extra) <= load.unanswered
        # Each order (answered or not) fully there: exactly one event; no event without its order.
        assert set(events) == orders
        assert {order: len(ids) for order, ids in events.items() if len(ids) != 1} == {}
        event_ids = {ids[0] for ids in events.values()}
        # Each event exactly one delivery to the listener, done: zero lost or duplicated deliveries.
        assert set(ledger) == event_ids
        problems = {
            event_id: [(row.module, row.mode, row.status, row.last_error) for row in rows]
            for event_id, rows in ledger.items()
            if [(row.module, row.mode, row.status) for row in rows] != [("listener", "async", "done")]
        }
        assert problems == {}
        # The handler's effect: every event handled; a repeat only as a redelivery after a kill.
        attempts = {order: ledger[ids[0]][0].attempts for order, ids in events.items()}
        assert {order for order in orders if notes.get(order, 0) == 0} == set()
        assert {
            order: (notes[order], attempts[order]) for order in orders if notes[order] > attempts[order]
        } == {}
        repeated = {order: notes[order] for order in orders if notes[order] > 1}
        assert all(attempts[order] > 1 for order in repeated), (repeated, attempts)
        handled = seen.json()
        assert event_ids <= set(handled["ids"])
        runs = handled["counts"]["order.created"]
        assert len(event_ids) <= runs <= sum(attempts.values())

        redelivered = sorted(order for order, count in attempts.items() if count > 1)
        print(
            f"\nchaos: {len(orders)} orders ({len(extra)} from unanswered requests, "
            f"{load.unanswered} unanswered attempts); worker killed holding {held_first} then "
            f"{held_second}; {len(redelivered)} delivery(ies) attempted more than once; "
            f"{len(repeated)} order(s) noted twice by a redelivery; handler runs {runs}"
        )
    finally:
        if load is not None:
            load.stop()
        for process in (worker, server):
            proc = process.process
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
        worker.stop()
        server.stop()
        engine.dispose()
