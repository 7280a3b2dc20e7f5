"""Events reach subscribed modules: sync after commit under a deadline, async as retried jobs.

A real host (the FastAPI app with its in-process job workers) and the
`listener` fixture module, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import api_keys, install_modules
from tests.polling import wait_for
from trafi_cli.main import app as cli
from trafi_host.api import create_app
from trafi_host.compatibility import compatibility_problem
from trafi_host.db import Database
from trafi_host.events.deliveries import Delivery, Ledger
from trafi_host.events.outbox import recent_events
from trafi_host.manifest.load import parse_manifest
from trafi_host.project import Project

LISTENER = "/api/modules/listener"


@pytest.fixture
def shop(project: Project, listener_dir: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    install_modules(project, listener_dir)
    config = project.load_config()
    config.host.event_retry_base_seconds = 0.1
    project.save_config(config)
    keys = api_keys(project.database_url(), "acme", "globex")
    with TestClient(create_app(project)) as client:
        client.headers["Authorization"] = f"Bearer {keys['acme']}"
        yield client, keys


def seen(client: TestClient, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = client.get(f"{LISTENER}/v1/seen", headers=headers or {})
    assert response.status_code == 200, response.text
    return dict(response.json())


def deliveries(project: Project, **filters: Any) -> list[Delivery]:
    database = Database(project.database_url())
    try:
        return Ledger(database).list(**filters)
    finally:
        database.close()


def post(client: TestClient, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = client.post(f"/api/commerce/{path}", json=body)
    assert response.status_code == status, response.text
    return dict(response.json())


def test_a_sync_handler_gets_the_typed_payload_before_the_response(
    shop: tuple[TestClient, dict[str, str]], project: Project
) -> None:
    client, _ = shop
    post(client, "products", {"sku": "MUG-1", "name": "Mug", "price_cents": 1250})
    got = seen(client)  # no waiting: sync handlers ran before the product response
    assert got["counts"] == {"product.created": 1}
    assert got["classes"] == {"product.created": "ProductCreated"}
    [delivery] = deliveries(project)
    assert (delivery.mode, delivery.status, delivery.attempts) == ("sync", "done", 1)


def test_a_slow_or_failing_sync_handler_never_fails_or_holds_the_request(
    shop: tuple[TestClient, dict[str, str]], project: Project
) -> None:
    client, _ = shop
    started = time.monotonic()
    post(client, "products", {"sku": "SLOW-1", "name": "slow", "price_cents": 1})
    slow_request = time.monotonic() - started
    post(client, "products", {"sku": "BAD-1", "name": "raise", "price_cents": 1})
    # The handler sleeps 2 s; the request waited for the 250 ms sync deadline, not for it.
    assert slow_request < 1.5
    # (A sleeping guest is inside a host call, which the epoch cannot cut short: its
    # worker thread is freed when the sleep ends and the deadline trap fires.)
    failed = wait_for(
        lambda: len(found := deliveries(project, status="failed")) == 2 and found,
        message="both sync deliveries to be recorded as failed",
    )
    errors = sorted(d.last_error or "" for d in failed)
    assert "RuntimeError: asked to fail" in errors[0], errors
    assert errors[1].startswith("handler deadline"), errors
    post(client, "products", {"sku": "OK-1", "name": "fine", "price_cents": 1})
    assert seen(client)["counts"] == {"product.created": 1}
    counted = client.get("/health").json()["events"]
    assert (counted["syncDone"], counted["syncFailed"]) == (1, 2)
    assert counted["failuresByModule"] == {"listener": 2}


def test_an_async_handler_runs_as_a_job_and_uses_core_services(
    shop: tuple[TestClient, dict[str, str]], project: Project
) -> None:
    client, _ = shop
    mug = post(client, "products", {"sku": "MUG-1", "name": "Mug", "price_cents": 1250})
    ada = post(client, "customers", {"email": "ada@example.com", "name": "Ada"})
    order = post(
        client, "orders", {"customer_id": ada["id"], "lines": [{"product_id": mug["id"], "quantity": 2}]}
    )
    wait_for(
        lambda: seen(client)["counts"].get("order.created") == 1, message="listener to see order.created"
    )
    notes = client.get(f"/api/commerce/orders/{order['id']}").json()["notes"]
    assert [(n["author"], n["text"]) for n in notes] == [
        ("module listener", "listener saw 1 line(s), first MUG-1")
    ]
    assert seen(client)["classes"]["order.created"] == "OrderCreated"


def test_a_failing_async_handler_is_retried_dead_lettered_and_retried_from_the_cli(
    shop: tuple[TestClient, dict[str, str]], project: Project
) -> None:
    client, _ = shop
    post(client, "customers", {"email": "fail@example.com", "name": "fail"})
    dead = wait_for(lambda: deliveries(project, status="dead"), message="the delivery to be dead-lettered")
    assert dead[0].attempts == 3  # maxRetries 2: three attempts in all
    assert "RuntimeError: cannot welcome fail@example.com yet" in (dead[0].last_error or "")
    runner = CliRunner()
    listed = runner.invoke(cli, ["events", "dead-letter", "list", "--json", "-C", str(project.root)])
    assert listed.exit_code == 0, listed.output
    [item] = json.loads(listed.output)
    assert (item["eventType"], item["module"], item["tenant"]) == ("customer.created", "listener", "acme")

    client.post(f"{LISTENER}/v1/flags/healed")
    retried = runner.invoke(cli, ["events", "dead-letter", "retry", str(item["id"]), "-C", str(project.root)])
    assert retried.exit_code == 0, retried.output
    wait_for(
        lambda: seen(client)["counts"].get("customer.created") == 1,
        message="listener to see the retried customer.created",
    )
    [done] = deliveries(project, event_id=item["eventId"])
    assert (done.status, done.attempts) == ("done", 1)


def test_retrying_what_is_not_dead_changes_nothing(
    shop: tuple[TestClient, dict[str, str]], project: Project
) -> None:
    client, _ = shop
    post(client, "products", {"sku": "MUG-1", "name": "Mug", "price_cents": 1250})
    [delivery] = deliveries(project)
    result = CliRunner().invoke(
        cli, ["events", "dead-letter", "retry", "999999", str(delivery.id), "-C", str(project.root)]
    )
    assert result.exit_code == 1 and "no delivery 999999" in result.output, result.output
    # Done, or failed when a loaded machine made the sync handler miss its 250 ms deadline:
    # either way not dead-lettered, and the retry must leave it as it is.
    status = delivery.status
    assert status in ("done", "failed"), status
    result = CliRunner().invoke(
        cli, ["events", "dead-letter", "retry", str(delivery.id), "-C", str(project.root)]
    )
    assert result.exit_code == 1 and f"is {status}, not dead-lettered" in result.output, result.output
    assert deliveries(project)[0].status == status


def test_a_module_event_reaches_its_subscribers(shop: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = shop
    post(client, "products", {"sku": "EMIT-1", "name": "emit", "price_cents": 1})
    got = wait_for(
        lambda: (s := seen(client))["counts"].get("listener.noticed") and s,
        message="listener to see its own listener.noticed",
    )
    assert got["classes"]["listener.noticed"] == "dict"  # another module's payload: JSON, as a dict


def test_one_tenants_events_never_reach_another_tenants_instance(
    shop: tuple[TestClient, dict[str, str]], project: Project
) -> None:
    client, keys = shop
    post(client, "products", {"sku": "MUG-1", "name": "Mug", "price_cents": 1250})
    post(client, "customers", {"email": "ada@example.com", "name": "Ada"})
    wait_for(
        lambda: seen(client)["counts"].get("customer.created") == 1,
        message="listener to see customer.created",
    )
    globex = {"Authorization": f"Bearer {keys['globex']}"}
    assert seen(client, globex) == {"counts": {}, "ids": [], "classes": {}}
    assert {d.tenant_id for d in deliveries(project)} == {"acme"}


def test_a_disabled_module_gets_no_new_events(
    shop: tuple[TestClient, dict[str, str]], project: Project
) -> None:
    client, _ = shop
    result = CliRunner().invoke(cli, ["module", "disable", "listener", "-C", str(project.root)])
    assert result.exit_code == 0, result.output
    wait_for(lambda: client.get(f"{LISTENER}/v1/seen").status_code == 404, message="listener to be disabled")
    post(client, "products", {"sku": "MUG-1", "name": "Mug", "price_cents": 1250})
    assert deliveries(project) == []


def test_enabling_a_module_is_an_event_for_every_tenant(
    shop: tuple[TestClient, dict[str, str]], project: Project
) -> None:
    client, keys = shop
    runner = CliRunner()
    assert runner.invoke(cli, ["module", "disable", "listener", "-C", str(project.root)]).exit_code == 0
    wait_for(lambda: client.get(f"{LISTENER}/v1/seen").status_code == 404, message="listener to be disabled")
    assert runner.invoke(cli, ["module", "enable", "listener", "-C", str(project.root)]).exit_code == 0
    globex = {"Authorization": f"Bearer {keys['globex']}"}
    for headers in ({}, globex):
        wait_for(
            lambda h=headers: client.get(f"{LISTENER}/v1/seen", headers=h).status_code == 200,
            message="listener to be enabled",
        )
        got = wait_for(
            lambda h=headers: (s := seen(client, h))["counts"].get("module.enabled") and s,
            message="listener to see module.enabled",
        )
        assert got["classes"]["module.enabled"] == "ModuleChanged"
    # Enabling what is enabled is no change, and no event.
    assert runner.invoke(cli, ["module", "enable", "listener", "-C", str(project.root)]).exit_code == 0
    database = Database(project.database_url())
    with database.session() as session:
        types = [e.type for e in recent_events(session, "acme")]
    database.close()
    assert types.count("module.enabled") == 1 and types.count("module.disabled") == 1


def test_core_services_are_scoped_to_the_grant_and_the_tenant(
    shop: tuple[TestClient, dict[str, str]],
) -> None:
    client, keys = shop
    mug = post(client, "products", {"sku": "MUG-1", "name": "Mug", "price_cents": 1250})
    ada = post(client, "customers", {"email": "ada@example.com", "name": "Ada"})
    order = post(
        client, "orders", {"customer_id": ada["id"], "lines": [{"product_id": mug["id"], "quantity": 2}]}
    )
    mine = client.get(f"{LISTENER}/v1/orders/{order['id']}")
    assert mine.json() == {"id": order["id"], "status": "pending", "total": 2500}
    # Another tenant's instance asking for the same id finds nothing.
    theirs = client.get(
        f"{LISTENER}/v1/orders/{order['id']}", headers={"Authorization": f"Bearer {keys['globex']}"}
    )
    assert theirs.status_code == 404 and "NotFound" in theirs.text
    # products:read is not in listener's permissions.core.
    denied = client.get(f"{LISTENER}/v1/products/{mug['id']}")
    assert denied.status_code == 403
    assert "no 'products:read' scope in permissions.core" in denied.text


def test_a_subscription_to_an_event_the_host_does_not_emit_is_refused() -> None:
    base = {
        "name": "typo",
        "version": "1.0.0",
        "description": "d",
        "author": "a",
        "license": "MIT",
        "trafi": "^0.1.0",
        "entry": {"backend": "dist/typo.wasm"},
    }
    typo = parse_manifest({**base, "events": [{"event": "order.creatd"}]})
    assert compatibility_problem(typo) == (
        "module typo subscribes to order.creatd, which this host does not emit (did you mean order.created?)"
    )
    other_module = parse_manifest({**base, "events": [{"event": "listener.noticed"}]})
    assert compatibility_problem(other_module) is None


def test_a_sync_handler_waits_for_a_worker_slot_like_an_http_call(
    shop: tuple[TestClient, dict[str, str]], project: Project
) -> None:
    """Slow sync handlers of one tenant cannot take more than that tenant's share of the module's
    worker slots: past it the delivery is the host's overload (not the module's incident), and
    another tenant's handlers still run."""
    client, keys = shop
    bulkhead = client.app.state.host.runtime.bulkhead  # type: ignore[attr-defined]
    held = 0
    while bulkhead.try_enter("listener", "acme"):  # as if acme's handlers were all still sleeping
        held += 1
    try:
        post(client, "products", {"sku": "WAIT-1", "name": "Mug", "price_cents": 1})
        globex = {"Authorization": f"Bearer {keys['globex']}"}
        answer = client.post(
            "/api/commerce/products", json={"sku": "G-1", "name": "Tea", "price_cents": 1}, headers=globex
        )
        assert answer.status_code == 201
    finally:
        for _ in range(held):
            bulkhead.leave("listener", "acme")
    failed = wait_for(lambda: deliveries(project, status="failed") or None, message="acme's delivery to fail")
    assert [d.tenant_id for d in failed] == ["acme"]
    assert (failed[0].last_error or "").startswith("host overloaded: no free worker slot for listener")
    assert seen(client, globex)["counts"] == {"product.created": 1}
    assert client.get("/health").json()["modules"][0]["status"] == "loaded"  # no incident, no quarantine
