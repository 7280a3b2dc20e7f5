"""`trafi serve --workers 2`: two real worker processes on one port, on PostgreSQL, seen through real HTTP.

Each test starts the real command (a supervisor and its workers) and talks to
the workers through clients pinned to one of them: a keep-alive connection
stays with the worker that accepted it, and `/health` says which one that is
(its pid). Every wait is for a condition, with a generous timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import REPO, api_keys, install_modules, postgres_database
from tests.host.events.test_chaos import Load, _settled
from tests.host.test_multi_host import REDIS_URL, HostProcess
from tests.polling import wait_for
from trafi_cli.cpu_affinity import allowed_cpus
from trafi_cli.main import app as cli
from trafi_host.build import build_if_stale
from trafi_host.db.schema import AuditEntry
from trafi_host.events.deliveries import DeliveryRow
from trafi_host.events.outbox import OutboxRow
from trafi_host.project import Project

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TENANT = "acme"
POINTS = REPO / "modules" / "points"
LOYALTY = REPO / "modules" / "loyalty"
START_SECONDS = 240.0  # two hosts loading their modules on a possibly busy 2-core machine


class Workers(HostProcess):
    """`trafi serve --workers 2`, with a client pinned to each worker."""

    def __init__(self, project: Path, log: Path, key: str) -> None:
        super().__init__(project, {**os.environ, "PYTHONUNBUFFERED": "1"}, log, workers=2)
        self.key = key
        self.clients: dict[int, httpx.Client] = {}  # worker pid -> a client whose connection it holds

    def health(self, client: httpx.Client) -> dict[str, object]:
        response = client.get("/health")
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    def process_of(self, client: httpx.Client) -> dict[str, object]:
        process = self.health(client)["process"]
        assert isinstance(process, dict)
        return process

    def pin(self, count: int = 2, timeout: float = START_SECONDS) -> dict[int, httpx.Client]:
        """A client on each of `count` distinct workers: new connections until as many answered."""

        def one_more() -> bool:
            self._check_alive()
            client = httpx.Client(
                base_url=self.base,
                headers={"Authorization": f"Bearer {self.key}"},
                timeout=30,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            )
            try:
                pid = int(str(self.process_of(client)["pid"]))
            except httpx.TransportError:
                client.close()
                return False
            if pid in self.clients:
                client.close()
            else:
                self.clients[pid] = client
            return len(self.clients) >= count

        wait_for(one_more, timeout=timeout, message=f"{count} distinct workers answering on port {self.port}")
        return self.clients

    def survey(self, count: int, timeout: float = START_SECONDS) -> dict[int, dict[str, object]]:
        """What `/health` says of each of `count` distinct workers, through new connections (a kept
        connection may have been closed by its worker for idling, and its client moved on)."""
        seen: dict[int, dict[str, object]] = {}

        def one_more() -> bool:
            self._check_alive()
            try:
                with httpx.Client(base_url=self.base, timeout=30) as client:
                    process = self.process_of(client)
            except httpx.TransportError:
                return False
            seen[int(str(process["pid"]))] = process
            return len(seen) >= count

        wait_for(one_more, timeout=timeout, message=f"{count} distinct workers answering on port {self.port}")
        return seen

    def forget(self, pid: int) -> None:
        client = self.clients.pop(pid, None)
        if client is not None:
            client.close()

    def _check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"trafi serve exited:\n{self.log.read_text()}")

    def start(self) -> None:
        super().start()
        self.pin()

    def stop(self) -> None:
        for pid in list(self.clients):
            self.forget(pid)
        super().stop()


@pytest.fixture
def workers_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with postgres_database() as url:
        monkeypatch.setenv("TRAFI_DATABASE_URL", url)
        yield url


def serve_workers(tmp_path: Path, database_url: str, *modules: Path, threshold: int = 5) -> Workers:
    project = Project.init(tmp_path / "shop")
    config = project.load_config()
    config.host.incident_threshold = threshold
    project.save_config(config)
    install_modules(project, *modules)
    key = api_keys(database_url, TENANT)[TENANT]
    return Workers(project.root, tmp_path / "serve.log", key)


def threads_cpus(pid: int) -> set[frozenset[int]]:
    """The CPUs each thread of process `pid` may run on (one set when they all agree)."""
    return {frozenset(os.sched_getaffinity(int(tid))) for tid in os.listdir(f"/proc/{pid}/task")}


def metric_samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def test_two_workers_share_the_port_and_each_is_a_host(
    tmp_path: Path, hello_dir: Path, workers_database: str
) -> None:
    host = serve_workers(tmp_path, workers_database, hello_dir)
    try:
        host.start()
        assert len(host.clients) == 2
        slots = set()
        for pid, client in host.clients.items():
            process = host.process_of(client)
            assert process["pid"] == pid
            slots.add(process["worker"])
            assert client.get("/api/modules/hello/v1/hits").status_code == 200
        assert slots == {1, 2}
        # `--cpu-affinity auto`: each worker on a CPU of its own, every thread of it (the wasm
        # worker threads the calls above made included); on one CPU, both left to the kernel.
        placed = [threads_cpus(pid) for pid in host.clients]
        if len(allowed_cpus()) >= 2:
            assert all(len(cpus) == 1 and len(next(iter(cpus))) == 1 for cpus in placed), placed
            assert placed[0] != placed[1], placed
        else:
            assert placed == [{frozenset(allowed_cpus())}] * 2
        assert (
            host.process is not None and host.process.pid not in host.clients
        )  # the supervisor serves nothing
        # SIGTERM to the supervisor stops every worker and exits 0.
        host.process.send_signal(signal.SIGTERM)
        assert host.process.wait(60) == 0
        for pid in host.clients:
            wait_for(lambda pid=pid: not _alive(pid), timeout=30, message=f"worker {pid} to exit")
    finally:
        host.stop()


def test_a_quarantine_counted_across_workers_holds_in_all(
    tmp_path: Path, hello_dir: Path, testkit_dir: Path, workers_database: str
) -> None:
    # Four incidents, two in each worker: a per-process count (2 < 4) would never quarantine.
    host = serve_workers(tmp_path, workers_database, hello_dir, testkit_dir, threshold=4)
    try:
        host.start()
        first, second = host.clients.values()
        for client in (first, second, first):
            assert client.get("/api/modules/testkit/trap").status_code == 500
        for client in (first, second):
            assert client.get("/api/modules/testkit/whoami").status_code == 200
        assert second.get("/api/modules/testkit/trap").status_code == 500

        def refused_everywhere() -> bool:
            return all(
                client.get("/api/modules/testkit/whoami").status_code == 503 for client in (first, second)
            )

        wait_for(refused_everywhere, timeout=30, message="testkit refused by both workers")
        for client in (first, second):
            refused = client.get("/api/modules/testkit/whoami").json()
            assert refused["error"] == "module 'testkit' is quarantined"
            assert "4 incidents" in refused["reason"]
            assert client.get("/api/modules/hello/v1/hits").status_code == 200
            statuses = {m["name"]: m["status"] for m in host.health(client)["modules"]}  # type: ignore[union-attr]
            assert statuses == {"hello": "loaded", "testkit": "quarantined"}
        with Session(create_engine(workers_database)) as session:
            actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.module == "testkit")))
        assert actions.count("incident") == 4
        assert actions.count("quarantined") == 1  # taken once, by one worker
        scrape = first.get("/metrics").text
        assert sum(v for labels, v in metric_samples(scrape, "trafi_module_quarantines_total")) == 1
    finally:
        host.stop()


def test_metrics_and_the_rate_limit_count_the_requests_of_both_workers(
    tmp_path: Path, hello_dir: Path, workers_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRAFI_REDIS_URL", raising=False)  # the workers share their count without it
    host = serve_workers(tmp_path, workers_database, hello_dir)
    result = CliRunner().invoke(cli, ["ratelimit", "set", "hello", "10/hour", "-C", str(host.project)])
    assert result.exit_code == 0, result.output
    try:
        host.start()
        (first_pid, first), (second_pid, second) = host.clients.items()
        for client, count in ((first, 3), (second, 5)):
            for _ in range(count):
                assert client.get("/api/modules/hello/v1/hits").status_code == 200
        # 8 of the tenant's 10 an hour are gone, whichever worker counted them: one more on each
        # worker, then neither lets a request through.
        remaining = [client.get("/api/modules/hello/v1/hits/current") for client in (first, second)]
        assert [(r.status_code, r.headers["RateLimit-Remaining"]) for r in remaining] == [
            (200, "1"),
            (200, "0"),
        ]
        assert [client.get("/api/modules/hello/v1/hits").status_code for client in (first, second)] == [
            429,
            429,
        ]
        for client in (first, second):
            scrape = client.get("/metrics").text
            # The 429s never reached the module.
            assert metric_samples(scrape, "trafi_module_calls_total") == [({}, 10.0)]
            durations = {
                labels["process"]: value
                for labels, value in metric_samples(scrape, "trafi_module_call_duration_seconds_count")
                if labels["module"] == "hello"
            }
            assert sorted(durations.values()) == [4.0, 6.0]
            assert {name.rsplit(":", 1)[1] for name in durations} == {str(first_pid), str(second_pid)}
            # A gauge every worker reports the same way is not doubled.
            assert metric_samples(scrape, "trafi_module_up") == [
                ({"module": "hello", "version": "0.1.0", "status": "loaded"}, 1.0)
            ]
    finally:
        host.stop()


def test_the_dashboard_s_module_metrics_from_either_worker_add_up_both(
    tmp_path: Path, workers_database: str
) -> None:
    for folder in (POINTS, LOYALTY):
        build_if_stale(folder)
    host = serve_workers(tmp_path, workers_database, POINTS, LOYALTY)
    try:
        host.start()
        (first_pid, first), (second_pid, second) = host.clients.items()
        for worker, (client, totals) in enumerate(((first, (10, 20)), (second, (1, 2, 3)))):
            for number, total in enumerate(totals):
                answer = client.post(  # each its own order: an order id is the points' idempotency key
                    "/api/modules/loyalty/v1/orders",
                    json={"id": f"o{worker}-{number}", "customer": "c1", "total": total},
                )
                assert answer.status_code == 201, answer.text
        # Store orders, 2 through the first worker and 3 through the second: loyalty's sync
        # order.created handler sets its gauge from a kv count both workers share.
        mug = _created(first, "products", {"sku": "MUG", "name": "Mug", "price_cents": 1250})
        ada = _created(first, "customers", {"email": "ada@example.com", "name": "Ada"})
        for client, orders in ((first, 2), (second, 3)):
            for _ in range(orders):
                line = {"product_id": mug["id"], "quantity": 1}
                _created(client, "orders", {"customer_id": ada["id"], "lines": [line]})
        for client in (first, second):
            response = client.get("/api/admin/modules/loyalty/metrics")
            assert response.status_code == 200, response.text
            answer = response.json()
            assert answer["workers"] == 2
            metrics = {metric["name"]: metric for metric in answer["metrics"]}
            [awarded] = metrics["points_awarded_total"]["series"]
            assert (awarded["tenant"], awarded["labels"], awarded["value"]) == (
                TENANT,
                {"reason": "order"},
                36.0,
            )
            parts = {int(process.rsplit(":", 1)[1]): value for process, value in awarded["byProcess"].items()}
            assert parts == {first_pid: 30.0, second_pid: 6.0}
            [duration] = metrics["points_service_duration_seconds"]["series"]
            assert duration["count"] == 5.0
            assert sum(bucket["count"] for bucket in duration["buckets"]) == 5.0
            # Each worker set the gauge from the shared count as its orders came: the count once
            # (`acrossWorkers: max`), not the two workers' last values added up (2 + 5).
            [seen] = metrics["orders_seen"]["series"]
            assert metrics["orders_seen"]["acrossWorkers"] == "max"
            assert seen["value"] == 5.0, seen
            parts = {int(process.rsplit(":", 1)[1]): value for process, value in seen["byProcess"].items()}
            assert parts == {first_pid: 2.0, second_pid: 5.0}
    finally:
        host.stop()


def _created(client: httpx.Client, what: str, body: dict[str, object]) -> dict[str, object]:
    response = client.post(f"/api/commerce/{what}", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


@pytest.fixture
def events_database(workers_database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TRAFI_REDIS_URL", REDIS_URL)
    # A queue of its own: other runs on this Redis must not take these jobs.
    monkeypatch.setenv("TRAFI_JOB_QUEUE", f"trafi-events-{uuid.uuid4().hex[:12]}")
    return workers_database


@pytest.mark.timeout(900)
def test_a_killed_worker_is_replaced_one_leader_at_a_time_and_no_event_is_lost(
    tmp_path: Path, listener_dir: Path, events_database: str
) -> None:
    host = serve_workers(tmp_path, events_database, listener_dir)
    engine = create_engine(events_database)
    load: Load | None = None
    threads: list[threading.Thread] = []
    try:
        host.start()

        def leaders() -> list[int]:
            return [pid for pid, process in host.survey(2).items() if process["eventLeader"]]

        leader = wait_for(lambda: leaders() or None, timeout=60, message="an event leader")
        assert len(leader) == 1, leader  # one relay leader at a time
        [leader_pid] = leader
        [survivor_pid] = [pid for pid in host.clients if pid != leader_pid]
        leader_cpus = threads_cpus(leader_pid)
        client = host.clients[survivor_pid]
        product = client.post(
            "/api/commerce/products", json={"sku": "MUG", "name": "Mug", "price_cents": 1250}
        )
        customer = client.post("/api/commerce/customers", json={"email": "ada@example.com", "name": "Ada"})
        assert (product.status_code, customer.status_code) == (201, 201), (product.text, customer.text)
        load = Load(host.base, host.key, customer.json()["id"], product.json()["id"])
        threads = [threading.Thread(target=load.run, daemon=True) for _ in range(3)]
        for thread in threads:
            thread.start()

        def answered(count: int) -> bool:
            assert load is not None
            if load.errors:
                raise load.errors[0]
            return len(load.answered) >= count

        load.allow(20)
        wait_for(lambda: answered(10), timeout=180, message="10 orders answered")
        # kill -9 of the leader, with orders being placed and its deliveries in hand.
        os.kill(leader_pid, signal.SIGKILL)
        host.forget(leader_pid)
        load.allow(40)

        def replaced() -> dict[int, dict[str, object]] | None:
            workers = host.survey(2)
            return workers if leader_pid not in workers else None

        # Replaced in its slot by a new process, and the lead taken over: still one leader.
        workers = wait_for(replaced, timeout=START_SECONDS, message="the killed worker replaced")
        assert survivor_pid in workers and len(workers) == 2
        assert {process["worker"] for process in workers.values()} == {1, 2}
        [replacement] = [pid for pid in workers if pid != survivor_pid]
        assert threads_cpus(replacement) == leader_cpus  # its slot's CPU
        after = wait_for(lambda: leaders() or None, timeout=60, message="a new event leader")
        assert len(after) == 1 and after[0] != leader_pid, after

        wait_for(lambda: answered(40), timeout=300, message="40 orders answered")
        load.stop()  # the threads place no more (the chaos test's load goes on to 80)
        for thread in threads:
            thread.join(60)
        assert not load.errors, load.errors
        assert len(load.answered) == 40
        wait_for(lambda: _settled(engine), timeout=300, message="every order.created delivery to settle")
        with Session(engine) as session:
            events = set(session.scalars(select(OutboxRow.id).where(OutboxRow.type == "order.created")))
            rows = session.scalars(select(DeliveryRow).where(DeliveryRow.event_type == "order.created")).all()
        assert len(events) >= 40  # every answered order, and any whose answer the kill cut off
        by_event: dict[str, list[str]] = {}
        for row in rows:
            by_event.setdefault(row.event_id, []).append(f"{row.module}/{row.mode}/{row.status}")
        # Each event exactly one delivery, done: none lost, none delivered twice over.
        assert {e: d for e, d in by_event.items() if d != ["listener/async/done"]} == {}
        assert set(by_event) == events
    finally:
        if load is not None:
            load.stop()
        host.stop()
        engine.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) still answers kill 0.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_that_cannot_start_stop_the_command_with_its_error(tmp_path: Path) -> None:
    """A project the workers cannot serve (here its job queue file cannot be opened) ends
    `trafi serve --workers 2` with exit code 1, not in a loop of restarts, and leaves no worker."""
    project = Project.init(tmp_path / "shop")
    (project.state_dir / "jobs.db").mkdir()  # where the SQLite job queue's file must be
    env = {k: v for k, v in os.environ.items() if k not in ("TRAFI_DATABASE_URL", "TRAFI_REDIS_URL")}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        command = [sys.executable, "-m", "trafi_cli", "serve", "-C", str(project.root), "--port", "0"]
        process = subprocess.Popen(
            [*command, "--workers", "2"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            assert process.wait(START_SECONDS) == 1, log.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    text = log.read_text()
    assert "could not start; stopping" in text, text
    started = [
        int(line.rsplit("pid ", 1)[1].rstrip(")")) for line in text.splitlines() if " started (pid " in line
    ]
    assert started and not [pid for pid in started if _alive(pid)]
