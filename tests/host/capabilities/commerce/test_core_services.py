"""The commerce host interface: scopes first, arguments checked, never another tenant's rows."""

from __future__ import annotations

from typing import Any

from tests.host.capabilities.harness import call_host_function
from trafi_host.capabilities.commerce.grant import ScopeGrant
from trafi_host.capabilities.commerce.host import MAX_NOTE, CommerceCapability
from trafi_host.commerce import models
from trafi_host.commerce.service import Commerce
from trafi_host.db import Database
from trafi_host.manifest.model import Permissions


def call(function: str, scopes: list[str], core: Commerce | None, *args: Any) -> tuple[Any, list[str]]:
    denied: list[str] = []
    grants = Permissions(core=[ScopeGrant(scope=s, reason="tests need it") for s in scopes])
    capability = CommerceCapability(core)
    result = call_host_function(
        capability, getattr(capability, function), *args, permissions=grants, denied=denied
    )
    return result, denied


def test_without_the_scope_the_call_is_denied_and_an_incident_recorded() -> None:
    result, denied = call("get_order", [], None, "ord_1")
    assert (result.tag, result.payload) == (
        "access-denied",
        "module listener has no 'orders:read' scope in permissions.core",
    )
    assert denied == ["commerce: module listener has no 'orders:read' scope in permissions.core"]


def test_a_note_must_have_text_of_a_sane_length() -> None:
    for text in ("", "   ", "x" * (MAX_NOTE + 1)):
        result, _ = call("add_order_note", ["orders:write"], None, "ord_1", text)
        assert result.tag == "invalid-argument", text


def test_another_tenants_order_is_not_found(database_url: str) -> None:
    with Database(database_url) as database:
        database.migrate()
        core = Commerce(database)
        product = core.create_product("globex", models.ProductIn(sku="MUG-1", name="Mug", price_cents=1))
        customer = core.create_customer("globex", models.CustomerIn(email="g@example.com", name="G"))
        order = core.create_order(
            "globex",
            models.OrderIn(
                customer_id=customer.id, lines=[models.OrderLineIn(product_id=product.id, quantity=1)]
            ),
        )
        result, denied = call("get_order", ["orders:read"], core, order.id)
        assert (result.tag, result.payload) == ("not-found", f"no order {order.id}")
        assert denied == []
