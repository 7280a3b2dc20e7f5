"""Load times and runtime failures reach `/metrics` and `trafi module list` (through the hosts' reports)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from tests.conftest import install_modules
from trafi_cli.main import app as cli
from trafi_host.api import create_app
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project


def test_metrics_show_modules_calls_and_events(project: Project, hello_dir: Path) -> None:
    install_modules(project, hello_dir)
    with TestClient(create_app(project)) as client:
        text = client.get("/metrics").text
    assert 'trafi_module_up{module="hello",status="loaded",version="0.1.0"} 1.0' in text
    assert 'trafi_module_load_milliseconds{module="hello"}' in text
    assert "trafi_module_calls_total 0.0" in text
    assert 'trafi_event_deliveries_total{mode="sync",outcome="done"} 0.0' in text
    # hello asks for 64 MiB per instance: the bound of what its instances can hold.
    limits = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "trafi_module_instance_memory_limit_bytes" and sample.labels["module"] == "hello"
    ]
    assert limits == [64 << 20]


def test_list_shows_what_a_running_host_reported(
    project: Project, hello_dir: Path, testkit_dir: Path
) -> None:
    install_modules(project, hello_dir, testkit_dir)
    config = project.load_config()
    config.modules["testkit"].config["failInit"] = "raise"  # init fails: only a start can tell
    project.save_config(config)
    host = ModuleHost(project)
    try:
        host.reconcile()
        result = CliRunner().invoke(cli, ["module", "list", "--json", "-C", str(project.root)])
    finally:
        host.close()
    assert result.exit_code == 0, result.output
    rows = {m["name"]: m for m in json.loads(result.output)["modules"]}
    assert rows["hello"]["status"] == "enabled" and rows["hello"]["loadMs"] > 0
    assert rows["hello"]["reportedBy"].endswith(f":{os.getpid()}")
    assert rows["testkit"]["status"] == "failed"
    assert "init failed for tenant __install_check__: RuntimeError: init refused" in rows["testkit"]["reason"]
    # A host that stops withdraws its reports: the listing is static again.
    after = json.loads(CliRunner().invoke(cli, ["module", "list", "--json", "-C", str(project.root)]).output)
    assert {m["name"]: m["status"] for m in after["modules"]} == {"hello": "enabled", "testkit": "enabled"}
