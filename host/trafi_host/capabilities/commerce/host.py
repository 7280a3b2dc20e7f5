"""`trafi:host/commerce`: the core's orders, products and customers, for modules.

Always the calling tenant's data (the tenant comes from the call, never from the
module), and each function only with its scope in the manifest's
`permissions.core`, as granted by the operator.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from ...commerce import models
from ...commerce.service import CommerceError, NotFound
from ...manifest.base import PermissionsBase
from ...validation.findings import Finding
from ...wit_values import record
from ..base import Capability, HostFunction, InstanceFacts, PermissionSection, host_error, hostcall
from ..call import CallContext, current_call
from .grant import SCOPES, ScopeGrant
from .service_types import CommerceCore

if TYPE_CHECKING:
    from ...manifest.model import Manifest

MAX_LIST = 100
MAX_NOTE = 2000


def _order(order: models.Order) -> Any:
    return record(
        id=order.id,
        customer_id=order.customer_id,
        status=order.status,
        total_cents=order.total_cents,
        currency=order.currency,
        lines=[
            record(
                product_id=line.product_id,
                sku=line.sku,
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
            )
            for line in order.lines
        ],
        notes=[
            record(author=note.author, text=note.text, created_at=note.created_at.isoformat())
            for note in order.notes
        ],
        created_at=order.created_at.isoformat(),
    )


def _product(product: models.Product) -> Any:
    return record(
        id=product.id,
        sku=product.sku,
        name=product.name,
        price_cents=product.price_cents,
        currency=product.currency,
    )


def _customer(customer: models.Customer) -> Any:
    return record(id=customer.id, email=str(customer.email), name=customer.name)


@dataclass(frozen=True)
class CommerceState:
    scopes: frozenset[str]
    core: CommerceCore | None


class CommerceCapability(Capability[CommerceState]):
    name: ClassVar[str] = "commerce"
    interface: ClassVar[str | None] = "trafi:host/commerce"
    section: ClassVar[PermissionSection | None] = PermissionSection(
        "core",
        list[ScopeGrant],
        "Core service scopes: each entry a `scope` and a `reason`. This host's scopes: "
        + ", ".join(f"`{scope}` ({functions})" for scope, functions in SCOPES.items())
        + "; see [events](events.md#core-services). Without the scope the call returns `access-denied`.",
        default_factory=list,
    )
    summary: ClassVar[str] = (
        "The core's orders, products and customers for the calling tenant, each function only with "
        "its scope in `permissions.core`."
    )

    def __init__(self, core: CommerceCore | None = None) -> None:
        self.core = core

    def grant(self, permissions: PermissionsBase) -> list[ScopeGrant]:
        return cast("list[ScopeGrant]", super().grant(permissions))

    def permission_items(self, grant: Any) -> dict[str, str]:
        return {f"core: {entry.scope}": entry.reason for entry in grant or []}

    def configure(self, manifest: Manifest, folder: Path) -> list[Finding]:
        findings = []
        for index, entry in enumerate(self.grant(manifest.permissions)):
            if entry.scope not in SCOPES:
                close = difflib.get_close_matches(entry.scope, list(SCOPES), n=1)
                hint = (
                    f"; did you mean {close[0]!r}?" if close else f"; this host's scopes: {', '.join(SCOPES)}"
                )
                message = f"{entry.scope!r} is not a scope of this host{hint}"
                findings.append(self.grant_finding("TRF-C001", f"[{index}].scope", message))
        return findings

    def prepare(self, facts: InstanceFacts) -> CommerceState:
        return CommerceState(frozenset(entry.scope for entry in self.grant(facts.permissions)), self.core)

    def functions(self) -> dict[str, HostFunction]:
        return {
            "get-order": hostcall("commerce.get-order", returns_result=True)(self.get_order),
            "list-orders": hostcall("commerce.list-orders", returns_result=True)(self.list_orders),
            "add-order-note": hostcall("commerce.add-order-note", returns_result=True)(self.add_order_note),
            "get-product": hostcall("commerce.get-product", returns_result=True)(self.get_product),
            "get-customer": hostcall("commerce.get-customer", returns_result=True)(self.get_customer),
        }

    def _with_scope(self, scope: str, action: Callable[[CommerceCore, CallContext], Any]) -> Any:
        context = current_call()
        state = self.state(context)
        if scope not in state.scopes:
            message = f"module {context.module} has no '{scope}' scope in permissions.core"
            context.denied(f"commerce: {message}")
            return host_error("access-denied", message)
        if state.core is None:
            return host_error("unavailable", "this host has no commerce core")
        try:
            return action(state.core, context)
        except NotFound as error:
            return host_error("not-found", str(error))
        except CommerceError as error:
            return host_error("invalid-argument", str(error))

    def get_order(self, order_id: str) -> Any:
        return self._with_scope("orders:read", lambda core, ctx: _order(core.order(ctx.tenant_id, order_id)))

    def list_orders(self, limit: int) -> Any:
        def action(core: CommerceCore, ctx: CallContext) -> Any:
            orders = core.orders(ctx.tenant_id, min(max(limit, 1), MAX_LIST), newest_first=True)
            return [_order(order) for order in orders]

        return self._with_scope("orders:read", action)

    def add_order_note(self, order_id: str, text: str) -> Any:
        if not text.strip() or len(text) > MAX_NOTE:
            return host_error("invalid-argument", f"a note has 1 to {MAX_NOTE} characters")
        return self._with_scope(
            "orders:write",
            lambda core, ctx: _order(
                core.add_order_note(ctx.tenant_id, order_id, f"module {ctx.module}", text)
            ),
        )

    def get_product(self, product_id: str) -> Any:
        return self._with_scope(
            "products:read", lambda core, ctx: _product(core.product(ctx.tenant_id, product_id))
        )

    def get_customer(self, customer_id: str) -> Any:
        return self._with_scope(
            "customers:read", lambda core, ctx: _customer(core.customer(ctx.tenant_id, customer_id))
        )
