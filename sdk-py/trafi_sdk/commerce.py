"""The commerce core's data, for the calling tenant, as far as `permissions.core` scopes allow.

Each function needs a scope in the manifest (`{"scope": "orders:read", "reason": ...}`):
`get_order`/`list_orders` need `orders:read`, `add_order_note` `orders:write`,
`get_product` `products:read`, `get_customer` `customers:read`. The records
returned are the WIT's (`order.id`, `order.total_cents`, `order.lines`, ...).
"""

from __future__ import annotations

from typing import Any

from . import _bindings

__all__ = ["add_order_note", "get_customer", "get_order", "get_product", "list_orders"]
from .errors import from_wit


def _call(function: str, *args: Any) -> Any:
    commerce = _bindings.require(_bindings.wit_commerce, "commerce")
    try:
        return getattr(commerce, function)(*args)
    except _bindings.WitErr as err:
        raise from_wit(_bindings.error_value(err)) from None


def get_order(order_id: str) -> Any:
    """The order (scope `orders:read`); `NotFound` when the tenant has no such order.

    Example:

        order = commerce.get_order(event.payload.order_id)
        customer = order.customer_id
    """
    return _call("get_order", order_id)


def list_orders(limit: int = 20) -> list[Any]:
    """The newest orders first, at most `limit` (capped at 100); scope `orders:read`.

    Example:

        open_orders = [o for o in commerce.list_orders(50) if o.status.name == "PENDING"]
    """
    return list(_call("list_orders", limit))


def add_order_note(order_id: str, text: str) -> Any:
    """Adds a note (1 to 2,000 characters) authored by this module; scope `orders:write`.

    Example:

        commerce.add_order_note(order.id, "25 loyalty points awarded")
    """
    return _call("add_order_note", order_id, text)


def get_product(product_id: str) -> Any:
    """The product (scope `products:read`): `id`, `sku`, `name`, `price_cents`, `currency`.

    Example:

        product = commerce.get_product(request.path_params["product"])
    """
    return _call("get_product", product_id)


def get_customer(customer_id: str) -> Any:
    """The customer (scope `customers:read`): `id`, `email`, `name`.

    Example:

        customer = commerce.get_customer(order.customer_id)
    """
    return _call("get_customer", customer_id)
