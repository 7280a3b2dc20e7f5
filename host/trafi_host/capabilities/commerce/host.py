"""`trafi:host/commerce`: the core's orders, products and customers, for modules.

Always the calling tenant's data (the tenant comes from the call, never from the
module), and each function only with its scope in the manifest's
`permissions.core`, as granted by the operator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from ...commerce import models
from ...commerce.service import Commerce, CommerceError, NotFound
from ...wit_values import record
from ..base import host_error, hostcall
from ..context import CallContext, current_call

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


class CommerceCapability:
    name: ClassVar[str] = "commerce"
    interface: ClassVar[str] = "trafi:host/commerce"

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {
            "get-order": hostcall("commerce.get-order", returns_result=True)(self.get_order),
            "list-orders": hostcall("commerce.list-orders", returns_result=True)(self.list_orders),
            "add-order-note": hostcall("commerce.add-order-note", returns_result=True)(self.add_order_note),
            "get-product": hostcall("commerce.get-product", returns_result=True)(self.get_product),
            "get-customer": hostcall("commerce.get-customer", returns_result=True)(self.get_customer),
        }

    def _with_scope(self, scope: str, action: Callable[[Commerce, CallContext], Any]) -> Any:
        context = current_call()
        if scope not in {grant.scope for grant in context.grants.core}:
            message = f"module {context.module} has no '{scope}' scope in permissions.core"
            context.denied(f"commerce: {message}")
            return host_error("access-denied", message)
        if context.core is None:
            return host_error("unavailable", "this host has no commerce core")
        try:
            return action(context.core, context)
        except NotFound as error:
            return host_error("not-found", str(error))
        except CommerceError as error:
            return host_error("invalid-argument", str(error))

    def get_order(self, order_id: str) -> Any:
        return self._with_scope("orders:read", lambda core, ctx: _order(core.order(ctx.tenant_id, order_id)))

    def list_orders(self, limit: int) -> Any:
        def action(core: Commerce, ctx: CallContext) -> Any:
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
