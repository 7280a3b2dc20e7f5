"""The host's series per module: calls, errors by kind, traps and deadline hits, parsed from `/metrics`."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import api_keys, install_modules
from trafi_host.api import create_app
from trafi_host.project import Project


def test_calls_errors_traps_and_deadlines_are_counted_per_module(
    sqlite_project: Project, testkit_dir: Path, hello_dir: Path
) -> None:
    install_modules(sqlite_project, testkit_dir, hello_dir)
    key = api_keys(sqlite_project.database_url(), "acme")["acme"]
    with TestClient(create_app(sqlite_project)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        assert client.get("/api/modules/testkit/noop").status_code == 204
        assert client.get("/api/modules/testkit/trap").status_code == 500
        assert client.get("/api/modules/testkit/spin").status_code == 504
        assert client.get("/api/modules/hello/v1/hits").status_code == 200
        text = client.get("/metrics").text
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]

    def value(name: str, **labels: str) -> float:
        found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
        assert len(found) == 1, (name, labels, found)
        return found[0]

    assert value("trafi_module_call_duration_seconds_count", module="testkit") == 3
    assert value("trafi_module_call_duration_seconds_count", module="hello") == 1
    assert value("trafi_module_call_duration_seconds_bucket", module="hello", le="+Inf") == 1
    assert value("trafi_module_call_errors_total", module="testkit", kind="trap") == 1
    assert value("trafi_module_call_errors_total", module="testkit", kind="deadline") == 1
    assert value("trafi_module_traps_total", module="testkit") >= 1
    assert value("trafi_module_deadline_hits_total", module="testkit") == 1
    assert not [
        s for s in samples if s.name == "trafi_module_call_errors_total" and s.labels["module"] == "hello"
    ]
    processes = {s.labels["process"] for s in samples if "process" in s.labels}
    assert len(processes) == 1  # this process's name on every per-module series
