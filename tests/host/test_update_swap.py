"""A running host and `trafi module update`: the new version is switched in while the old one
serves, its health window judges it, and a failed window rolls it back on its own — switched back
at once, then the project restored (config, folder, audit, `module.update-failed` event).

The failing update is the issue's: an `init` that fails only on a real tenant's data (the trial
start, on empty state, passes), here testkit's `failInit: data` for a tenant holding a `legacy`
key-value entry."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.cli.commands import audit_actions, run_trafi, trafi_env
from tests.conftest import api_keys, install_modules
from tests.host.test_multi_host import HostProcess
from tests.module_sources import module_copy
from tests.polling import wait_for
from trafi_cli.main import app
from trafi_host.api import create_app
from trafi_host.db import Database
from trafi_host.events.outbox import OutboxRow
from trafi_host.lifecycle import project_module_states
from trafi_host.module_host import ModuleHost
from trafi_host.module_list import list_modules
from trafi_host.project import Project

pytestmark = pytest.mark.slow

FAILS_ON_DATA = {
    "configSchema": {"type": "object", "properties": {"failInit": {"type": "string", "default": "data"}}}
}


@pytest.fixture
def keys(sqlite_project: Project, testkit_dir: Path) -> dict[str, str]:
    install_modules(sqlite_project, testkit_dir)
    config = sqlite_project.load_config()
    config.updates.health_window_calls = 6
    sqlite_project.save_config(config)
    return api_keys(sqlite_project.database_url(), "acme", "globex")


@pytest.fixture
def client(sqlite_project: Project, keys: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_project)) as client:
        yield client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def update_to(project: Project, folder: Path) -> None:
    result = CliRunner().invoke(
        app, ["module", "update", "testkit", "--to", str(folder), "--yes", "-C", str(project.root)]
    )
    assert result.exit_code == 0, result.output


def serving(client: TestClient) -> ModuleHost:
    host: ModuleHost = client.app.state.host  # type: ignore[attr-defined]
    host.reconcile()  # what the change watcher does within a poll
    return host


def test_a_failing_health_window_rolls_the_update_back(
    sqlite_project: Project, testkit_dir: Path, client: TestClient, keys: dict[str, str], tmp_path: Path
) -> None:
    acme, globex = auth(keys["acme"]), auth(keys["globex"])
    assert client.put("/api/modules/testkit/kv/legacy", content=b"v1 data", headers=acme).status_code == 200
    update_to(
        sqlite_project,
        module_copy(testkit_dir, tmp_path / "testkit-1.1.0", version="1.1.0", manifest=FAILS_ON_DATA),
    )
    host = serving(client)
    assert host.images["testkit"].version == "1.1.0"
    assert client.get("/api/modules/testkit/noop", headers=globex).status_code == 204  # no legacy data

    failed = [client.get("/api/modules/testkit/noop", headers=acme) for _ in range(3)]

    assert [r.status_code for r in failed] == [500, 500, 500]
    assert {r.json()["kind"] for r in failed} == {"init-failed"}
    # Switched back at once: the next call is served by 1.0.0, for the tenant it failed.
    assert host.images["testkit"].version == "1.0.0"
    assert client.get("/api/modules/testkit/noop", headers=acme).status_code == 204
    wait_for(
        lambda: sqlite_project.load_config().modules["testkit"].version == "1.0.0",
        message="the rollback to restore the config",
    )
    wait_for(lambda: "update-failed" in audit_actions(sqlite_project, "testkit"), message="the audit entry")
    assert sqlite_project.load_config().modules["testkit"].config == {}  # restored, not failInit
    assert sqlite_project.load_lock().modules["testkit"].version == "1.0.0"
    listing = list_modules(sqlite_project).model_dump()
    [item] = listing["modules"]
    assert item["status"] == "enabled"
    assert item["lastUpdate"]["status"] == "rolled-back"
    assert "3 of" in item["lastUpdate"]["reason"] and "init-failed" in item["lastUpdate"]["reason"]
    assert any("the update to 1.1.0 failed and was rolled back" in w for w in listing["warnings"])
    with project_module_states(sqlite_project) as states:
        assert states.load()["testkit"].quarantined is None  # a rollback, not a quarantine
    with Database(sqlite_project.database_url()) as database, database.session() as session:
        events = session.scalars(select(OutboxRow).where(OutboxRow.type == "module.update-failed")).all()
        assert sorted(e.tenant_id for e in events) == ["acme", "globex"]
        payload = json.loads(events[0].payload)
        assert (payload["version"], payload["failed_version"]) == ("1.0.0", "1.1.0")


def test_a_reconcile_before_the_rollback_restores_the_config_keeps_the_version_switched_back_to(
    sqlite_project: Project, testkit_dir: Path, client: TestClient, keys: dict[str, str], tmp_path: Path
) -> None:
    """The change watcher's reconcile can come between the switch back and the rollback's config
    write (CI caught it): the config still names the failed version, which must not be switched
    in again — not by this host, nor by another host still serving the old one."""
    acme = auth(keys["acme"])
    assert client.put("/api/modules/testkit/kv/legacy", content=b"v1 data", headers=acme).status_code == 200
    other = ModuleHost(sqlite_project)  # a second host, serving 1.0.0 when the update fails
    try:
        other.reconcile()
        update_to(
            sqlite_project,
            module_copy(testkit_dir, tmp_path / "testkit-1.1.0", version="1.1.0", manifest=FAILS_ON_DATA),
        )
        host = serving(client)
        # The rollback waits for the project lock (as for a running command) while both reconcile.
        with sqlite_project.exclusive():
            failed = [client.get("/api/modules/testkit/noop", headers=acme).status_code for _ in range(3)]
            assert failed == [500, 500, 500]
            assert host.images["testkit"].version == "1.0.0"
            assert sqlite_project.load_config().modules["testkit"].version == "1.1.0"  # not restored yet

            host.reconcile()
            other.reconcile()

            assert host.images["testkit"].version == "1.0.0"
            assert other.images["testkit"].version == "1.0.0"
            assert [client.get("/api/modules/testkit/noop", headers=acme).status_code for _ in range(3)] == [
                204
            ] * 3
        wait_for(
            lambda: sqlite_project.load_config().modules["testkit"].version == "1.0.0",
            message="the rollback to restore the config",
        )
        wait_for(
            lambda: "update-failed" in audit_actions(sqlite_project, "testkit"), message="the audit entry"
        )
        assert host.images["testkit"].version == "1.0.0"
        other.reconcile()
        assert other.images["testkit"].version == "1.0.0"
    finally:
        other.close()


def test_a_healthy_update_passes_its_window(
    sqlite_project: Project, testkit_dir: Path, client: TestClient, keys: dict[str, str], tmp_path: Path
) -> None:
    update_to(sqlite_project, module_copy(testkit_dir, tmp_path / "testkit-1.1.0", version="1.1.0"))
    host = serving(client)
    assert host.images["testkit"].version == "1.1.0"

    statuses = [
        client.get("/api/modules/testkit/noop", headers=auth(keys["acme"])).status_code for _ in range(6)
    ]

    assert statuses == [204] * 6
    [item] = list_modules(sqlite_project).model_dump()["modules"]
    assert item["lastUpdate"]["status"] == "passed"
    assert "testkit" not in host.previous_images
    assert sqlite_project.load_config().modules["testkit"].version == "1.1.0"


def status_of(url: str, key: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def health_version(base: str) -> str | None:
    with urllib.request.urlopen(f"{base}/health", timeout=10) as response:
        modules = json.loads(response.read())["modules"]
    return next((m["version"] for m in modules if m["name"] == "testkit"), None)


def test_no_request_fails_while_a_serving_host_swaps_versions(
    sqlite_project: Project, testkit_dir: Path, tmp_path: Path
) -> None:
    # A generous deadline: this is about the swap, and a busy machine must not turn a slow
    # noop into a 504 (deadlines have their own tests).
    roomy = {"limits": {"memoryMb": 48, "timeoutMs": 20000, "instancesPerTenant": 2}}
    install_modules(sqlite_project, module_copy(testkit_dir, tmp_path / "testkit-1.0.0", manifest=roomy))
    keys = api_keys(sqlite_project.database_url(), "acme")
    host = HostProcess(sqlite_project.root, trafi_env(), tmp_path / "host.log")
    host.start()
    statuses: Counter[int] = Counter()
    after_swap = threading.Event()
    stop = threading.Event()

    def load() -> None:
        url = f"{host.base}/api/modules/testkit/noop"
        while not stop.is_set():
            statuses[status_of(url, keys["acme"])] += 1

    workers = [threading.Thread(target=load) for _ in range(4)]
    try:
        for worker in workers:
            worker.start()
        wait_for(lambda: sum(statuses.values()) >= 20, message="load before the update")
        newer = module_copy(testkit_dir, tmp_path / "testkit-1.1.0", version="1.1.0", manifest=roomy)
        code = run_trafi(
            sqlite_project,
            "module",
            "update",
            "testkit",
            "--to",
            str(newer),
            "--yes",
            log=tmp_path / "update.log",
        )
        assert code == 0, (tmp_path / "update.log").read_text()
        wait_for(lambda: health_version(host.base) == "1.1.0", timeout=120, message="the host to switch")
        before = sum(statuses.values())
        wait_for(lambda: sum(statuses.values()) >= before + 40, message="load after the switch")
        after_swap.set()
    finally:
        stop.set()
        for worker in workers:
            worker.join(60)
        host.stop()
    assert after_swap.is_set()
    assert set(statuses) == {204}, (statuses, (tmp_path / "host.log").read_text()[-3000:])
