"""Two host processes on one PostgreSQL database: each exports its own series, and they add up.

Each process labels its series `process="<hostname>:<pid>"` (docs/metrics.md):
the two scrapes never share a label set, and their sum is what happened, on
`/metrics` and over OTLP alike.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.conftest import REPO, api_keys, install_modules, postgres_database
from tests.host.capabilities.metrics.test_otlp_export import Receiver
from tests.host.test_multi_host import HostProcess
from tests.polling import wait_for
from trafi_host.build import build_if_stale
from trafi_host.project import Project

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
AWARDED = "trafi_module_loyalty_points_awarded_total"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def order(host: HostProcess, key: str, order_id: str, total: int) -> int:
    request = urllib.request.Request(
        f"{host.base}/api/modules/loyalty/v1/orders",
        data=json.dumps({"id": order_id, "customer": "c1", "total": total}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(json.loads(response.read())["balance"])


def scrape(host: HostProcess) -> list[Sample]:
    with urllib.request.urlopen(f"{host.base}/metrics", timeout=10) as response:
        text = response.read().decode()
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def test_two_processes_export_their_own_series_that_add_up(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("points", "loyalty"):
        build_if_stale(REPO / "modules" / name)
    with postgres_database() as database_url:
        monkeypatch.setenv("TRAFI_DATABASE_URL", database_url)
        monkeypatch.delenv("TRAFI_REDIS_URL", raising=False)
        machine_a = Project.init(tmp_path / "machine-a")
        install_modules(machine_a, REPO / "modules" / "points", REPO / "modules" / "loyalty")
        shutil.copytree(machine_a.root, tmp_path / "machine-b")
        keys = api_keys(database_url, "acme", "globex")
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "TRAFI_OTLP_METRICS_ENDPOINT": receiver.url,
            "TRAFI_OTLP_EXPORT_INTERVAL_MS": "300",
        }
        hosts = [
            HostProcess(machine_a.root, env, tmp_path / "host-a.log"),
            HostProcess(tmp_path / "machine-b", env, tmp_path / "host-b.log"),
        ]
        try:
            for host in hosts:
                host.start()
            # One balance in the shared database, built through both processes.
            assert order(hosts[0], keys["acme"], "o1", 10) == 10
            assert order(hosts[1], keys["acme"], "o2", 5) == 15
            assert order(hosts[1], keys["globex"], "o3", 7) == 7
            scrapes = [scrape(host) for host in hosts]

            awarded = [[s for s in samples if s.name == AWARDED] for samples in scrapes]
            processes = [{s.labels["process"] for s in samples} for samples in awarded]
            assert all(len(p) == 1 for p in processes) and processes[0] != processes[1]
            label_sets = [frozenset(s.labels.items()) for samples in awarded for s in samples]
            assert len(label_sets) == len(set(label_sets)), "two processes exported the same series"
            by_tenant: dict[str, float] = {}
            for sample in (s for samples in awarded for s in samples):
                by_tenant[sample.labels["tenant"]] = by_tenant.get(sample.labels["tenant"], 0) + sample.value
            assert by_tenant == {"acme": 15, "globex": 7}
            calls = sum(
                s.value
                for samples in scrapes
                for s in samples
                if s.name == "trafi_module_call_duration_seconds_count" and s.labels["module"] == "loyalty"
            )
            assert calls == 3

            def otlp_totals() -> dict[tuple[str, str], float]:
                latest: dict[tuple[str, str], float] = {}  # cumulative: the last point of each series wins
                for request in list(receiver.requests):
                    for resource in request.resource_metrics:
                        for scope in resource.scope_metrics:
                            for metric in (m for m in scope.metrics if m.name == AWARDED):
                                for point in metric.sum.data_points:
                                    labels = {a.key: a.value.string_value for a in point.attributes}
                                    latest[(labels["process"], labels["tenant"])] = point.as_double
                return latest

            wait_for(lambda: len(otlp_totals()) == 3, message="both processes' series over OTLP")
            exported = otlp_totals()
            assert {process for process, _ in exported} == processes[0] | processes[1]
            assert sum(v for (_, tenant), v in exported.items() if tenant == "acme") == 15
            assert sum(v for (_, tenant), v in exported.items() if tenant == "globex") == 7
        finally:
            for host in hosts:
                host.stop()
