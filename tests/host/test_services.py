"""Module services: registered as <module>.<service>, called by declared dependents, per tenant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import REPO, install_modules
from trafi_host.api import create_app
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.build import build_if_stale
from trafi_host.install import set_enabled
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project

POINTS = REPO / "modules" / "points"
LOYALTY = REPO / "modules" / "loyalty"


@pytest.fixture
def host(project: Project, testkit_dir: Path) -> Iterator[ModuleHost]:
    build_if_stale(POINTS)
    build_if_stale(LOYALTY)
    install_modules(project, POINTS, LOYALTY, testkit_dir)
    with ModuleHost(project) as module_host:
        module_host.load_all()
        for tenant in ("acme", "globex"):
            create_tenant(module_host.database, tenant)
        yield module_host


def headers(host: ModuleHost, tenant: str) -> dict[str, str]:
    key, _ = create_api_key(host.database, tenant)
    return {"Authorization": f"Bearer {key}"}


def test_a_dependent_calls_a_service_for_its_own_tenant(project: Project, host: ModuleHost) -> None:
    assert host.images["points"].service_names == ("balance",)
    acme, globex = headers(host, "acme"), headers(host, "globex")
    with TestClient(create_app(project, host)) as client:
        first = client.post(
            "/api/modules/loyalty/v1/orders", headers=acme, json={"id": "o1", "customer": "c1", "total": 42}
        )
        assert (first.status_code, first.json()) == (201, {"order": "o1", "balance": 42})
        second = client.post(
            "/api/modules/loyalty/v1/orders", headers=acme, json={"id": "o2", "customer": "c1", "total": 8}
        )
        assert second.json()["balance"] == 50
        # The points module's own endpoint sees the same ledger, for the same tenant only.
        assert client.get("/api/modules/points/v1/customers/c1", headers=acme).json()["points"] == 50
        assert client.get("/api/modules/loyalty/v1/customers/c1/points", headers=globex).json()["points"] == 0


def test_a_service_refusal_reaches_the_caller(project: Project, host: ModuleHost) -> None:
    acme = headers(host, "acme")
    with TestClient(create_app(project, host)) as client:
        refused = client.post(
            "/api/modules/loyalty/v1/orders", headers=acme, json={"id": "o3", "customer": "c1", "total": -5}
        )
    assert refused.status_code == 422
    assert refused.json()["error"] == "points.balance: ValueError: points must be positive"


def test_undeclared_and_unknown_services_are_refused(project: Project, host: ModuleHost) -> None:
    acme = headers(host, "acme")
    with TestClient(create_app(project, host)) as client:
        undeclared = client.get("/api/modules/testkit/call?target=points.balance", headers=acme).json()
        malformed = client.get("/api/modules/testkit/call?target=points", headers=acme).json()
    assert undeclared["error"].startswith("AccessDenied: points.balance: module 'points' is not in testkit's")
    assert malformed["error"].startswith("InvalidArgument: target 'points' must be")


def test_disabling_the_provider_stops_its_dependents(project: Project, host: ModuleHost) -> None:
    set_enabled(project, "points", False)
    host.reconcile()
    assert host.states["loyalty"].status == "failed"
    assert host.states["loyalty"].error == "dependency points is disabled"
    set_enabled(project, "points", True)
    host.reconcile()
    assert host.states["loyalty"].status == "loaded"
