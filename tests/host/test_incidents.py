"""Runtime incidents are recorded, and too many of them quarantine the module, not the host."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import install_modules
from tests.polling import wait_for
from trafi_cli.main import app as cli
from trafi_host.api import create_app
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.lifecycle import project_module_states
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project
from trafi_host.runtime import ModuleRuntime


def serving_host(project: Project, threshold: int, *modules: Path) -> tuple[ModuleHost, dict[str, str]]:
    """A host serving `modules` that quarantines after `threshold` incidents, and a key's headers."""
    install_modules(project, *modules)
    config = project.load_config()
    config.host.incident_threshold = threshold
    project.save_config(config)
    host = ModuleHost(project)
    host.reconcile()
    return host, tenant_headers(host, "acme")


def tenant_headers(host: ModuleHost, tenant: str) -> dict[str, str]:
    create_tenant(host.database, tenant)
    key, _ = create_api_key(host.database, tenant)
    return {"Authorization": f"Bearer {key}"}


def test_repeated_incidents_quarantine_one_module(
    project: Project, hello_dir: Path, testkit_dir: Path
) -> None:
    host, headers = serving_host(project, 3, hello_dir, testkit_dir)
    try:
        with TestClient(create_app(project, host)) as client:
            assert client.get("/api/modules/testkit/trap", headers=headers).status_code == 500
            assert client.get("/api/modules/testkit/spin", headers=headers).status_code == 504
            assert client.get("/api/modules/testkit/bomb", headers=headers).status_code == 500
            refused = client.get("/api/modules/testkit/whoami", headers=headers)
            assert refused.status_code == 503
            assert refused.json()["error"] == "module 'testkit' is quarantined"
            assert "3 incidents" in refused.json()["reason"]
            assert client.get("/api/modules/hello/v1/hits", headers=headers).status_code == 200
            health = {m["name"]: m["status"] for m in client.get("/health").json()["modules"]}
            assert health == {"hello": "loaded", "testkit": "quarantined"}
        kinds = [(e.action, e.rule) for e in reversed(host.audit.entries("testkit"))]
    finally:
        host.close()
    assert kinds[-4:] == [
        ("incident", "trap"),
        ("incident", "deadline"),
        ("incident", "memory"),
        ("quarantined", None),
    ]
    # The host wrote the database only; the config mirror catches up at the next command.
    assert project.load_config().modules["testkit"].quarantined is None
    with project_module_states(project) as states:
        assert states.load()["testkit"].quarantined

    runner = CliRunner()
    listing = json.loads(runner.invoke(cli, ["module", "list", "--json", "-C", str(project.root)]).output)
    assert {m["name"]: m["status"] for m in listing["modules"]}["testkit"] == "quarantined"
    assert any("testkit is quarantined" in w for w in listing["warnings"])
    assert runner.invoke(cli, ["module", "enable", "testkit", "-C", str(project.root)]).exit_code == 0
    assert project.load_config().modules["testkit"].quarantined is None


def test_a_lifted_quarantine_fires_again_in_the_same_process(project: Project, testkit_dir: Path) -> None:
    host, headers = serving_host(project, 2, testkit_dir)
    url = "/api/modules/testkit/whoami"
    try:
        with TestClient(create_app(project, host)) as client:
            for _ in range(2):
                assert client.get("/api/modules/testkit/trap", headers=headers).status_code == 500
            assert client.get(url, headers=headers).status_code == 503
            enabled = CliRunner().invoke(cli, ["module", "enable", "testkit", "-C", str(project.root)])
            assert enabled.exit_code == 0, enabled.output
            # The running host learns of it from the state change it follows.
            wait_for(
                lambda: client.get(url, headers=headers).status_code == 200,
                message="the lifted module to answer",
            )
            for _ in range(2):
                assert client.get("/api/modules/testkit/trap", headers=headers).status_code == 500
            refused = client.get(url, headers=headers)
            assert refused.status_code == 503
            assert refused.json()["error"] == "module 'testkit' is quarantined"
        actions = [e.action for e in reversed(host.audit.entries("testkit"))]
    finally:
        host.close()
    assert actions[-7:] == [
        "incident",
        "incident",
        "quarantined",
        "quarantine-lifted",
        "incident",
        "incident",
        "quarantined",
    ]


def test_a_refused_host_call_is_an_incident(project: Project, testkit_dir: Path, tmp_path: Path) -> None:
    import shutil

    from trafi_host.manifest.load import load_manifest
    from trafi_host.runtime import ModuleRequest, Principal

    # testkit without its kv grant: its kv calls are refused, and counted.
    folder = tmp_path / "testkit"
    shutil.copytree(testkit_dir, folder)
    manifest_file = folder / "trafi-module.json"
    data = json.loads(manifest_file.read_text())
    del data["permissions"]
    manifest_file.write_text(json.dumps(data))
    seen: list[tuple[str, str, str]] = []
    runtime = ModuleRuntime(
        project.artifacts_dir,
        host_capabilities(MemoryKv()),
        on_incident=lambda m, t, kind, d: seen.append((m, t, kind)),
    )
    try:
        import asyncio

        image = runtime.load_image(load_manifest(folder), folder)
        response = asyncio.run(
            runtime.call_http(image, ModuleRequest("GET", "/kv/x", "acme", Principal("k")))
        )
    finally:
        runtime.close()
    assert response.status == 500
    # Outside dev the body names an error id only; the exception text is in the host log.
    assert json.loads(response.body)["errorId"] == response.error_id
    assert b"AccessDenied" not in response.body
    assert ("testkit", "acme", "denied") in seen


def test_host_overload_alone_never_quarantines_a_healthy_module(
    project: Project, hello_dir: Path, testkit_dir: Path
) -> None:
    host, headers = serving_host(project, 2, hello_dir, testkit_dir)
    url = "/api/modules/testkit/sleep?ms=100"
    try:
        with TestClient(create_app(project, host)) as client, ThreadPoolExecutor(60) as pool:
            assert client.get(url, headers=headers).status_code == 200  # an instance is ready
            # 60 at once for one tenant; testkit serves two at a time (instancesPerTenant)
            # within a 1 s deadline: most wait for an instance or a worker past it.
            responses = list(pool.map(lambda _: client.get(url, headers=headers), range(60)))
            statuses = [r.status_code for r in responses]
            assert set(statuses) <= {200, 503}, statuses
            overloaded = [r for r in responses if r.status_code == 503]
            assert overloaded, "some calls should have waited past their deadline"
            assert all(r.headers["retry-after"] == "1" for r in overloaded)
            assert overloaded[0].json()["kind"] == "overload"
            assert client.get(url, headers=headers).status_code == 200  # still serving
            health = {m["name"]: m["status"] for m in client.get("/health").json()["modules"]}
            assert health == {"hello": "loaded", "testkit": "loaded"}
        # Counted (and logged) as the host's overload: trafi_module_call_errors{kind="overload"}.
        assert host.runtime.stats.overloads == len(overloaded)
        assert host.runtime.module_stats.failures == {("testkit", "overload"): len(overloaded)}
        actions = [e.action for e in host.audit.entries("testkit")]
    finally:
        host.close()
    assert "incident" not in actions and "quarantined" not in actions
    assert project.load_config().modules["testkit"].quarantined is None


def test_a_quarantine_names_the_tenants_whose_calls_misbehaved(project: Project, testkit_dir: Path) -> None:
    host, acme = serving_host(project, 3, testkit_dir)
    globex = tenant_headers(host, "globex")
    try:
        with TestClient(create_app(project, host)) as client:
            assert client.get("/api/modules/testkit/trap", headers=globex).status_code == 500
            assert client.get("/api/modules/testkit/trap", headers=acme).status_code == 500
            assert client.get("/api/modules/testkit/trap", headers=globex).status_code == 500
            # The decision is the module's: every tenant is refused.
            refused = client.get("/api/modules/testkit/whoami", headers=acme)
            assert refused.status_code == 503
            reason = refused.json()["reason"]
            [module] = client.get("/health").json()["modules"]
        entries = list(reversed(host.audit.entries("testkit")))
    finally:
        host.close()
    assert reason.startswith(
        "3 incidents in 60 s from tenants globex (2), acme (1) (last: trap, tenant globex"
    )
    assert (module["status"], module["error"]) == ("quarantined", reason)
    incidents = [e.detail for e in entries if e.action == "incident"]
    assert [d.split(":")[0] for d in incidents] == ["tenant globex", "tenant acme", "tenant globex"]
    assert [e.reason for e in entries if e.action == "quarantined"] == [reason]
    listing = json.loads(
        CliRunner().invoke(cli, ["module", "list", "--json", "-C", str(project.root)]).output
    )
    assert any("globex (2)" in w for w in listing["warnings"])


def test_once_quarantined_a_flood_of_refused_calls_writes_one_entry_not_one_each(tmp_path: Path) -> None:
    from trafi_host.audit_log import AuditLog
    from trafi_host.db import Database
    from trafi_host.incidents import IncidentMonitor

    with Database(f"sqlite:///{tmp_path / 'audit.db'}") as database:
        database.migrate()
        audit = AuditLog(database)
        quarantined: list[str] = []
        monitor = IncidentMonitor(audit, 3, 60, lambda module, reason: quarantined.append(reason))
        for _ in range(400):  # one call refused 400 host calls
            monitor.record("greedy", "acme", "denied", "kv: no 'kv' permission")
        rows = [(e.action, e.rule) for e in audit.entries("greedy")]
        assert rows == [("incident", "denied")] * 3
        assert len(quarantined) == 1
        monitor.forget("greedy")  # an operator lifted it
        [summary] = [e for e in audit.entries("greedy") if e.rule == "after-quarantine"]
        assert summary.detail == "397 more incident(s) while quarantined, not recorded one by one"


def test_incidents_spread_over_two_processes_quarantine_once(tmp_path: Path) -> None:
    """Two monitors on one database stand for two workers: the count is the database's."""
    from trafi_host.audit_log import AuditLog
    from trafi_host.db import Database
    from trafi_host.incidents import IncidentMonitor

    with Database(f"sqlite:///{tmp_path / 'audit.db'}") as database:
        database.migrate()
        audit = AuditLog(database)
        quarantined: list[tuple[str, str]] = []
        first = IncidentMonitor(audit, 4, 60, lambda module, reason: quarantined.append(("first", reason)))
        second = IncidentMonitor(audit, 4, 60, lambda module, reason: quarantined.append(("second", reason)))
        first.record("greedy", "acme", "trap", "GET /trap")
        second.record("greedy", "globex", "trap", "GET /trap")
        first.record("greedy", "acme", "trap", "GET /trap")
        assert quarantined == []  # 3 of 4, though neither process saw more than 2
        second.record("greedy", "globex", "trap", "GET /trap")
        [(who, reason)] = quarantined
        assert who == "second"
        assert reason.startswith("4 incidents in 60 s from tenants acme (2), globex (2)")


def test_a_quarantine_is_taken_once_whoever_asks_second(database_url: str) -> None:
    from trafi_host.audit_log import AuditLog
    from trafi_host.db import Database
    from trafi_host.lifecycle import ModuleStates

    with Database(database_url) as database:
        database.migrate()
        first, second = ModuleStates(database), ModuleStates(database)
        assert first.quarantine_once("greedy", "4 incidents", "host", enabled=True)
        assert not second.quarantine_once("greedy", "5 incidents", "host", enabled=True)
        assert first.load()["greedy"].quarantined == "4 incidents"
        taken = [e.reason for e in AuditLog(database).entries("greedy") if e.action == "quarantined"]
        assert taken == ["4 incidents"]
