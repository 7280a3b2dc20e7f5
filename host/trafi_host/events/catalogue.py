"""Every business event the platform emits: its name, payload, when it fires, an example.

The payload models are the single definition: the outbox stores them, the WIT
records mirror them field for field (a test compares the two), and
`docs/events.md` is generated from them. A payload only ever gains fields
within a version; anything else is a new `version`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

OrderStatus = Literal["pending", "paid", "fulfilled", "cancelled"]
PaymentStatus = Literal["created", "completed", "failed"]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrderLine(Payload):
    product_id: str
    sku: str
    quantity: int = Field(ge=1)
    unit_price_cents: int = Field(ge=0)


class OrderCreated(Payload):
    order_id: str
    customer_id: str
    status: OrderStatus
    total_cents: int
    currency: str
    lines: list[OrderLine]


class OrderStatusChanged(Payload):
    order_id: str
    previous: OrderStatus
    status: OrderStatus


class OrderCancelled(Payload):
    order_id: str
    previous: OrderStatus
    reason: str


class PaymentCreated(Payload):
    payment_id: str
    order_id: str
    amount_cents: int
    currency: str


class PaymentCompleted(Payload):
    payment_id: str
    order_id: str
    amount_cents: int
    currency: str


class PaymentFailed(Payload):
    payment_id: str
    order_id: str
    reason: str


class ProductCreated(Payload):
    product_id: str
    sku: str
    name: str
    price_cents: int
    currency: str


class ProductUpdated(Payload):
    product_id: str
    sku: str
    name: str
    price_cents: int
    currency: str
    changed: list[str] = Field(description="The fields this update changed.")


class CustomerCreated(Payload):
    customer_id: str
    email: str
    name: str


class ModuleChanged(Payload):
    module: str
    version: str


class ModuleUpdateFailed(Payload):
    module: str
    version: str = Field(description="The version serving again (rolled back to).")
    failed_version: str = Field(description="The version whose health window failed.")
    reason: str


@dataclass(frozen=True)
class EventType:
    name: str
    payload: type[Payload]
    fires: str  # when, in words
    example: dict[str, Any]
    version: int = 1
    # Worlds published before the event existed have no case for it: it reaches their
    # handlers as `custom` (the payload as JSON text); a later world may give it a case.
    wit_case: bool = True


EVENTS: dict[str, EventType] = {
    event.name: event
    for event in (
        EventType(
            "order.created",
            OrderCreated,
            "An order is placed (`POST /api/commerce/orders`); it starts `pending`.",
            {
                "order_id": "ord_7f3a",
                "customer_id": "cus_19c2",
                "status": "pending",
                "total_cents": 2500,
                "currency": "EUR",
                "lines": [{"product_id": "prd_01", "sku": "MUG-1", "quantity": 2, "unit_price_cents": 1250}],
            },
        ),
        EventType(
            "order.status-changed",
            OrderStatusChanged,
            "An order moves along pending -> paid -> fulfilled (paid when a payment completes).",
            {"order_id": "ord_7f3a", "previous": "pending", "status": "paid"},
        ),
        EventType(
            "order.cancelled",
            OrderCancelled,
            "A pending or paid order is cancelled (after `order.status-changed` to `cancelled`).",
            {"order_id": "ord_7f3a", "previous": "pending", "reason": "customer asked"},
        ),
        EventType(
            "payment.created",
            PaymentCreated,
            "A payment for an order is started (`POST /api/commerce/payments`).",
            {"payment_id": "pay_88d1", "order_id": "ord_7f3a", "amount_cents": 2500, "currency": "EUR"},
        ),
        EventType(
            "payment.completed",
            PaymentCompleted,
            "A payment succeeds; its order becomes `paid` in the same transaction.",
            {"payment_id": "pay_88d1", "order_id": "ord_7f3a", "amount_cents": 2500, "currency": "EUR"},
        ),
        EventType(
            "payment.failed",
            PaymentFailed,
            "A payment is declined; the order stays `pending`.",
            {"payment_id": "pay_88d1", "order_id": "ord_7f3a", "reason": "card declined"},
        ),
        EventType(
            "product.created",
            ProductCreated,
            "A product is added to the catalogue.",
            {"product_id": "prd_01", "sku": "MUG-1", "name": "Mug", "price_cents": 1250, "currency": "EUR"},
        ),
        EventType(
            "product.updated",
            ProductUpdated,
            "A product's name or price changes (an update that changes nothing emits nothing).",
            {
                "product_id": "prd_01",
                "sku": "MUG-1",
                "name": "Mug",
                "price_cents": 1400,
                "currency": "EUR",
                "changed": ["price_cents"],
            },
        ),
        EventType(
            "customer.created",
            CustomerCreated,
            "A customer is registered.",
            {"customer_id": "cus_19c2", "email": "ada@example.com", "name": "Ada"},
        ),
        EventType(
            "module.enabled",
            ModuleChanged,
            "A module is enabled (`trafi module enable`), for every tenant.",
            {"module": "loyalty", "version": "1.0.0"},
        ),
        EventType(
            "module.disabled",
            ModuleChanged,
            "A module is disabled (`trafi module disable`), for every tenant.",
            {"module": "loyalty", "version": "1.0.0"},
        ),
        EventType(
            "module.update-failed",
            ModuleUpdateFailed,
            "An update failed its health window and was rolled back (docs/updating.md), for every "
            "tenant. No WIT case in worlds 0.1.0 and 0.2.0: handlers receive it as `custom`.",
            {
                "module": "loyalty",
                "version": "1.0.0",
                "failed_version": "1.1.0",
                "reason": "3 of 7 calls failed in the health window (last: trap)",
            },
            wit_case=False,
        ),
    )
}


def event_type(name: str) -> EventType:
    try:
        return EVENTS[name]
    except KeyError:
        known = ", ".join(sorted(EVENTS))
        raise KeyError(f"no event type {name!r} (known: {known})") from None


# The namespaces of the core's events. A module's own events are `<module>.<name>`, so
# no module may take one of these names (nor one the core will use next): its events
# would pass for the core's.
CORE_NAMESPACES = frozenset(name.split(".")[0] for name in EVENTS)
RESERVED_NAMESPACES = CORE_NAMESPACES | frozenset(
    {
        "cart",
        "checkout",
        "core",
        "fulfillment",
        "host",
        "inventory",
        "invoice",
        "refund",
        "shipment",
        "store",
        "subscription",
        "system",
        "tenant",
        "trafi",
        "user",
    }
)


def expected_source(event_type: str) -> str:
    """Who may emit `event_type`: "core" for a reserved namespace, else the module named by it."""
    namespace = event_type.split(".", 1)[0]
    return "core" if namespace in RESERVED_NAMESPACES else namespace
