"""The records the host hands a module, as plain dataclasses shaped like the generated bindings.

In a component these come from the WIT (`trafi:host/commerce`, `trafi:host/events`):
the same field names, `OrderStatus` an enum whose names are the WIT cases. Build
them in a test to seed the fake commerce core or to deliver an event:

    order = records.Order(id="o1", customer_id="c1", total_cents=2500)
    harness.commerce.add_order(order)
    harness.deliver("payment.completed", records.PaymentCompleted("p1", "o1", 2500, "EUR"))
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class OrderStatus(enum.Enum):
    PENDING = 0
    PAID = 1
    FULFILLED = 2
    CANCELLED = 3


@dataclass
class OrderLine:
    product_id: str
    sku: str
    quantity: int
    unit_price_cents: int


@dataclass
class OrderNote:
    author: str
    text: str
    created_at: str


@dataclass
class Order:
    id: str
    customer_id: str
    status: OrderStatus = OrderStatus.PENDING
    total_cents: int = 0
    currency: str = "EUR"
    lines: list[OrderLine] = field(default_factory=list)
    notes: list[OrderNote] = field(default_factory=list)
    created_at: str = "2026-01-01T00:00:00Z"


@dataclass
class Product:
    id: str
    sku: str
    name: str
    price_cents: int
    currency: str = "EUR"


@dataclass
class Customer:
    id: str
    email: str
    name: str


# Event payloads (docs/events.md): one record per core event type.


@dataclass
class OrderCreated:
    order_id: str
    customer_id: str
    status: OrderStatus
    total_cents: int
    currency: str
    lines: list[OrderLine] = field(default_factory=list)


@dataclass
class OrderStatusChanged:
    order_id: str
    previous: OrderStatus
    status: OrderStatus


@dataclass
class OrderCancelled:
    order_id: str
    previous: OrderStatus
    reason: str


@dataclass
class PaymentCreated:
    payment_id: str
    order_id: str
    amount_cents: int
    currency: str


@dataclass
class PaymentCompleted:
    payment_id: str
    order_id: str
    amount_cents: int
    currency: str


@dataclass
class PaymentFailed:
    payment_id: str
    order_id: str
    reason: str


@dataclass
class ProductCreated:
    product_id: str
    sku: str
    name: str
    price_cents: int
    currency: str


@dataclass
class ProductUpdated:
    product_id: str
    sku: str
    name: str
    price_cents: int
    currency: str
    changed: list[str] = field(default_factory=list)


@dataclass
class CustomerCreated:
    customer_id: str
    email: str
    name: str


@dataclass
class ModuleChanged:
    module: str
    version: str


# The payload record of each core event type; any other type is a module's own (a dict).
CORE_EVENTS: dict[str, type] = {
    "order.created": OrderCreated,
    "order.status-changed": OrderStatusChanged,
    "order.cancelled": OrderCancelled,
    "payment.created": PaymentCreated,
    "payment.completed": PaymentCompleted,
    "payment.failed": PaymentFailed,
    "product.created": ProductCreated,
    "product.updated": ProductUpdated,
    "customer.created": CustomerCreated,
    "module.enabled": ModuleChanged,
    "module.disabled": ModuleChanged,
}

__all__ = [
    "Customer",
    "CustomerCreated",
    "ModuleChanged",
    "Order",
    "OrderCancelled",
    "OrderCreated",
    "OrderLine",
    "OrderNote",
    "OrderStatus",
    "OrderStatusChanged",
    "PaymentCompleted",
    "PaymentCreated",
    "PaymentFailed",
    "Product",
    "ProductCreated",
    "ProductUpdated",
]
