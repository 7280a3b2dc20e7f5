"""Distributed: hosts leave async events to `trafi worker` processes (PostgreSQL + Redis).

The worker is killed in the middle of a job; the delivery's lease runs out and a
restarted worker delivers it: nothing is lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import api_keys, install_modules, postgres_database
from tests.host.events.test_event_delivery import deliveries, post, seen
from tests.host.test_multi_host import REDIS_URL
from tests.polling import wait_for
from trafi_host.api import create_app
from trafi_host.project import Project

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


class Worker:
    def __init__(self, project: Path, log: Path) -> None:
        self.project, self.log = project, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "trafi_cli", "worker", "-C", str(self.project), "--threads", "2"],
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(
            lambda: "event workers:" in self.log.read_text(),
            timeout=120,
            message="the worker process to start its event workers",
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def distributed(
    tmp_path: Path, listener_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Project, TestClient, Worker]]:
    with postgres_database() as url:
        monkeypatch.setenv("TRAFI_DATABASE_URL", url)
        monkeypatch.setenv("TRAFI_REDIS_URL", REDIS_URL)
        # A queue of its own: other runs on this Redis must not take these jobs.
        monkeypatch.setenv("TRAFI_JOB_QUEUE", f"trafi-events-{uuid.uuid4().hex[:12]}")
        project = Project.init(tmp_path / "shop")
        config = project.load_config()
        config.host.job_workers = 0  # the host queues; only the worker process runs jobs
        project.save_config(config)
        install_modules(project, listener_dir)
        key = api_keys(url, "acme")["acme"]
        worker = Worker(project.root, tmp_path / "worker.log")
        try:
            with TestClient(create_app(project)) as client:
                client.headers["Authorization"] = f"Bearer {key}"
                worker.start()
                yield project, client, worker
        finally:
            worker.stop()


def _order(client: TestClient) -> dict[str, object]:
    mug = post(client, "products", {"sku": f"MUG-{time.monotonic_ns()}", "name": "Mug", "price_cents": 1250})
    ada = post(client, "customers", {"email": f"ada{time.monotonic_ns()}@example.com", "name": "Ada"})
    return post(
        client, "orders", {"customer_id": ada["id"], "lines": [{"product_id": mug["id"], "quantity": 1}]}
    )


def test_a_separate_worker_process_delivers_async_events(
    distributed: tuple[Project, TestClient, Worker],
) -> None:
    project, client, _worker = distributed
    _order(client)
    wait_for(
        lambda: seen(client)["counts"].get("order.created") == 1, message="listener to see order.created"
    )
    # The host runs no job workers (jobWorkers 0): only the worker process could have done it.
    [delivery] = [d for d in deliveries(project) if d.event_type == "order.created"]
    assert (delivery.status, delivery.attempts) == ("done", 1)
    # And the sync subscription ran in the host, inside the request.
    assert seen(client)["counts"]["product.created"] == 1


def test_a_worker_killed_mid_job_loses_nothing(distributed: tuple[Project, TestClient, Worker]) -> None:
    project, client, worker = distributed
    client.post("/api/modules/listener/v1/flags/slow-orders")  # the order handler now takes 2.5 s
    _order(client)

    def running() -> bool:
        return any(d.event_type == "order.created" and d.status == "running" for d in deliveries(project))

    wait_for(running, message="the order.created delivery to be running")
    worker.kill()  # in the middle of the handler
    assert seen(client)["counts"].get("order.created") is None
    worker.start()
    wait_for(
        lambda: seen(client)["counts"].get("order.created") == 1,
        message="the restarted worker to deliver order.created",
    )
    [delivery] = [d for d in deliveries(project) if d.event_type == "order.created"]
    assert (delivery.status, delivery.attempts) == ("done", 2)
