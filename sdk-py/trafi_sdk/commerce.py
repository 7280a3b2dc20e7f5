"""The commerce core's data, for the calling tenant, as far as `permissions.core` scopes allow.

Each function needs a scope in the manifest (`{"scope": "orders:read", "reason": ...}`):
`get_order`/`list_orders` need `orders:read`, `add_order_note` `orders:write`,
`get_product` `products:read`, `get_customer` `customers:read`. The records
returned are the WIT's (`order.id`, `order.total_cents`, `order.lines`, ...).
"""

from __future__ import annotations

from typing import Any

from . import _bindings
from .errors import from_wit


def _call(function: str, *args: Any) -> Any:
    commerce = _bindings.require(_bindings.wit_commerce, "commerce")
    try:
        return getattr(commerce, function)(*args)
    except _bindings.WitErr as err:
        raise from_wit(err.value) from None


def get_order(order_id: str) -> Any:
    return _call("get_order", order_id)


def list_orders(limit: int = 20) -> list[Any]:
    return list(_call("list_orders", limit))


def add_order_note(order_id: str, text: str) -> Any:
    return _call("add_order_note", order_id, text)


def get_product(product_id: str) -> Any:
    return _call("get_product", product_id)


def get_customer(customer_id: str) -> Any:
    return _call("get_customer", customer_id)
