"""docs/metrics.md: quoted from modules/loyalty, and what it shows is what a scrape of it gives."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.conftest import REPO, api_keys, install_modules
from trafi_host.api import create_app
from trafi_host.build import build_if_stale
from trafi_host.capabilities.metrics.store import HOST_FAMILIES
from trafi_host.errors import TrafiError
from trafi_host.project import Project
from trafi_host.validation.rules import RULES

DOC = REPO / "docs" / "metrics.md"
LOYALTY = REPO / "modules" / "loyalty"
POINTS = REPO / "modules" / "points"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(), re.S)


def test_the_quoted_manifest_and_code_are_loyalty_s() -> None:
    [declared] = blocks("json")
    manifest = json.loads((LOYALTY / "trafi-module.json").read_text())
    assert json.loads("{" + declared + "}")["metrics"] == manifest["metrics"]
    source = (LOYALTY / "app.py").read_text()
    for block in blocks("python"):
        assert block in source, block


def test_every_metrics_rule_has_a_row() -> None:
    text = DOC.read_text()
    for rule in (r for r in RULES if r.startswith("TRF-O")):
        assert f"`{rule}` {RULES[rule].name}" in text


@pytest.fixture(scope="session")
def loyalty_built() -> Path:
    for folder in (POINTS, LOYALTY):
        build_if_stale(folder)
    return LOYALTY


def scrape(client: TestClient) -> list[Sample]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return [s for family in text_string_to_metric_families(response.text) for s in family.samples]


def test_the_example_scrape_is_what_loyalty_records(sqlite_project: Project, loyalty_built: Path) -> None:
    install_modules(sqlite_project, POINTS, LOYALTY)
    keys = api_keys(sqlite_project.database_url(), "acme", "globex")
    with TestClient(create_app(sqlite_project)) as client:
        for tenant, total in (("acme", 42), ("globex", 8)):
            answer = client.post(
                "/api/modules/loyalty/v1/orders",
                headers={"Authorization": f"Bearer {keys[tenant]}"},
                json={"id": "o1", "customer": "c1", "total": total},
            )
            assert answer.status_code == 201, answer.text
        samples = scrape(client)

    process = next(s.labels["process"] for s in samples if s.name.startswith("trafi_module_loyalty_"))
    shown = "\n".join(
        line.replace('process="web-1:4242"', f'process="{process}"')
        for line in blocks("text")[0].splitlines()
    )
    for sample in (s for f in text_string_to_metric_families(shown) for s in f.samples):
        assert sample in samples, sample
    awarded = {
        s.labels["tenant"]: s.value for s in samples if s.name == "trafi_module_loyalty_points_awarded_total"
    }
    assert awarded == {"acme": 42, "globex": 8}  # two tenants, two series
    # The host's own series for the module, beside the module's.
    calls = [s for s in samples if s.name == "trafi_module_call_duration_seconds_count"]
    assert {s.labels["module"]: s.value for s in calls}["loyalty"] == 2
    live = {s.labels["module"]: s.value for s in samples if s.name == "trafi_module_instances_live"}
    assert live["loyalty"] >= 2  # one per tenant at least
    # Every host family under `trafi_module_` is reserved from module names.
    host_families = {
        re.sub(r"_(total|bucket|count|sum|created)$", "", s.name)
        for s in samples
        if s.name.startswith("trafi_module_")
        and not s.name.startswith(("trafi_module_loyalty_", "trafi_module_points_"))
    }
    assert host_families <= HOST_FAMILIES


def test_a_bad_metric_name_is_refused_at_install_with_the_conventional_name(
    sqlite_project: Project, loyalty_built: Path, tmp_path: Path
) -> None:
    copy = shutil.copytree(LOYALTY, tmp_path / "loyalty")
    manifest = json.loads((copy / "trafi-module.json").read_text())
    manifest["metrics"][0]["name"] = "pointsAwarded"
    (copy / "trafi-module.json").write_text(json.dumps(manifest))
    install_modules(sqlite_project, POINTS)
    with pytest.raises(TrafiError) as refused:
        install_modules(sqlite_project, copy)
    message = str(refused.value)
    assert "TRF-O001 metric-name at metrics[0].name" in message
    assert "did you mean 'points_awarded_total'?" in message
