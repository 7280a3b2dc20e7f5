"""Rate limits on real HTTP: per tenant, from the manifest, the operator's override, the host's default.

testkit is installed from a copy whose manifest says `"rateLimit": "3/hour"` (an hour: no
window passes during a test); hello has no rate of its own.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from tests.conftest import api_keys, install_modules
from tests.polling import wait_for
from trafi_cli.main import app as cli
from trafi_host.api import create_app
from trafi_host.db import Database
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project
from trafi_host.rate_limits import set_override

LIMITED = "/api/modules/testkit/noop"
UNLIMITED = "/api/modules/hello/v1/hits/current"


def limited_copy(testkit_dir: Path, folder: Path, rate: str) -> Path:
    """testkit, its manifest asking for `rate` (the component is the same)."""
    shutil.copytree(testkit_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = folder / "trafi-module.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "rateLimit": rate}))
    return folder


@pytest.fixture
def keys(sqlite_project: Project, hello_dir: Path, testkit_dir: Path, tmp_path: Path) -> dict[str, str]:
    install_modules(sqlite_project, hello_dir, limited_copy(testkit_dir, tmp_path / "testkit", "3/hour"))
    return api_keys(sqlite_project.database_url(), "acme", "globex")


@pytest.fixture
def client(sqlite_project: Project, keys: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_project)) as client:
        yield client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def statuses(client: TestClient, url: str, key: str, times: int) -> list[int]:
    return [client.get(url, headers=auth(key)).status_code for _ in range(times)]


def host_of(client: TestClient) -> ModuleHost:
    host: ModuleHost = client.app.state.host  # type: ignore[attr-defined]
    return host


def test_the_manifest_rate_holds_for_each_tenant_on_its_own(client: TestClient, keys: dict[str, str]) -> None:
    assert statuses(client, LIMITED, keys["acme"], 5) == [204, 204, 204, 429, 429]
    # acme's burst took nothing from globex, nor from acme's use of another module.
    assert statuses(client, LIMITED, keys["globex"], 3) == [204, 204, 204]
    assert statuses(client, UNLIMITED, keys["acme"], 5) == [200] * 5


def test_answers_carry_the_ratelimit_headers_and_a_429_says_when_to_retry(
    client: TestClient, keys: dict[str, str]
) -> None:
    answers = [client.get(LIMITED, headers=auth(keys["acme"])) for _ in range(4)]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["RateLimit-Limit"] for a in answers} == {"3"}
    assert {a.headers["RateLimit-Policy"] for a in answers} == {"3;w=3600"}
    assert "Retry-After" not in answers[0].headers
    refused = answers[-1]
    assert refused.status_code == 429
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["RateLimit-Reset"] == refused.headers["Retry-After"]
    assert refused.json()["error"].startswith(
        "rate limit of module 'testkit' reached for this tenant (3/hour)"
    )
    # A module without a rate answers without the headers.
    assert "RateLimit-Limit" not in client.get(UNLIMITED, headers=auth(keys["acme"])).headers


def test_a_refused_request_costs_no_wasm(client: TestClient, keys: dict[str, str]) -> None:
    assert statuses(client, LIMITED, keys["acme"], 3) == [204] * 3
    calls = host_of(client).runtime.stats.calls
    assert statuses(client, LIMITED, keys["acme"], 20) == [429] * 20
    assert host_of(client).runtime.stats.calls == calls


def test_a_module_cannot_forge_the_hosts_count(client: TestClient, keys: dict[str, str]) -> None:
    asked = {"status": 200, "headers": [["RateLimit-Remaining", "999"], ["RateLimit-Limit", "999"]]}
    answer = client.post("/api/modules/testkit/respond", json=asked, headers=auth(keys["acme"]))
    assert answer.status_code == 200
    assert answer.headers.get_list("RateLimit-Remaining") == ["2"]
    assert answer.headers.get_list("RateLimit-Limit") == ["3"]


def test_the_operators_override_wins_over_the_manifest(sqlite_project: Project, keys: dict[str, str]) -> None:
    with Database(sqlite_project.database_url()) as database:
        set_override(database, "testkit", "1/hour", "acme")
        set_override(database, "testkit", "unlimited", "globex")
        set_override(database, "hello", "2/hour")  # every tenant
    with TestClient(create_app(sqlite_project)) as client:
        assert statuses(client, LIMITED, keys["acme"], 2) == [204, 429]
        lifted = [client.get(LIMITED, headers=auth(keys["globex"])) for _ in range(6)]
        assert [a.status_code for a in lifted] == [204] * 6
        assert "RateLimit-Limit" not in lifted[0].headers
        assert statuses(client, UNLIMITED, keys["acme"], 3) == [200, 200, 429]
        assert statuses(client, UNLIMITED, keys["globex"], 3) == [200, 200, 429]


def test_an_override_set_while_the_host_runs_applies_without_a_restart(
    sqlite_project: Project, client: TestClient, keys: dict[str, str]
) -> None:
    assert statuses(client, LIMITED, keys["acme"], 1) == [204]
    result = CliRunner().invoke(
        cli, ["ratelimit", "set", "testkit", "1/hour", "--tenant", "acme", "-C", str(sqlite_project.root)]
    )
    assert result.exit_code == 0, result.output
    # The change watcher rereads the table (its poll); then acme's one request is spent.
    wait_for(
        lambda: client.get(LIMITED, headers=auth(keys["acme"])).status_code == 429,
        message="the override to refuse acme",
    )
    assert statuses(client, LIMITED, keys["globex"], 3) == [204] * 3


def test_the_host_default_limits_modules_without_a_rate_of_their_own(
    sqlite_project: Project, keys: dict[str, str]
) -> None:
    config = sqlite_project.load_config()
    config.host.rate_limit = "2/hour"
    sqlite_project.save_config(config)
    with TestClient(create_app(sqlite_project)) as client:
        assert statuses(client, UNLIMITED, keys["acme"], 3) == [200, 200, 429]
        assert statuses(client, LIMITED, keys["acme"], 4) == [204, 204, 204, 429]  # its manifest's 3


def test_refusals_are_a_metric_per_module_and_tenant(client: TestClient, keys: dict[str, str]) -> None:
    statuses(client, LIMITED, keys["acme"], 7)
    statuses(client, LIMITED, keys["globex"], 2)
    samples = [
        sample
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
        if sample.name == "trafi_module_rate_limited_total"
    ]
    assert [(s.labels["module"], s.labels["tenant"], s.value) for s in samples] == [("testkit", "acme", 4.0)]
    assert samples[0].labels["process"] == host_of(client).metrics.process
