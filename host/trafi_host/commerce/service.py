"""The commerce core: products, customers, orders and payments, each change with its event.

Every method takes the tenant and touches only that tenant's rows; every change
and the events it causes are one transaction (see `events.outbox`). Order
lifecycle: pending -> paid (a payment completes) -> fulfilled; pending or paid
-> cancelled. Payments: created -> completed | failed.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..db.engine import Database, DatabaseBusy, is_database_busy
from ..db.schema import utcnow
from ..errors import TrafiError
from ..events.catalogue import (
    CustomerCreated,
    OrderCancelled,
    OrderCreated,
    OrderStatus,
    OrderStatusChanged,
    PaymentCompleted,
    PaymentCreated,
    PaymentFailed,
    ProductCreated,
    ProductUpdated,
)
from ..events.catalogue import OrderLine as OrderLinePayload
from ..events.outbox import Event, record_event
from . import models
from .tables import CustomerRow, OrderLineRow, OrderNoteRow, OrderRow, PaymentRow, ProductRow

T = TypeVar("T")

# Which moves an order may make, and who makes them.
_TRANSITIONS: dict[str, set[str]] = {
    "pending": {"paid", "cancelled"},
    "paid": {"fulfilled", "cancelled"},
    "fulfilled": set(),
    "cancelled": set(),
}


class CommerceError(TrafiError):
    status = 400


class NotFound(CommerceError):
    status = 404


class Conflict(CommerceError):
    status = 409


# A write that finds SQLite locked past its busy timeout is tried again this many times in all.
WRITE_ATTEMPTS = 3
_ID = re.compile(models.ID_PATTERN)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


class Commerce:
    """`after_commit(events)` is called with the events of each committed change (delivery)."""

    def __init__(self, database: Database, after_commit: Callable[[list[Event]], None] | None = None) -> None:
        self.database = database
        self.after_commit = after_commit

    def _change(self, work: Callable[[Session, list[Event]], T]) -> T:
        """One transaction; when SQLite stays locked it is rolled back and run again, a few times."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            events: list[Event] = []
            try:
                with self.database.write_session() as session:
                    result = work(session, events)
            except IntegrityError as error:
                raise Conflict(f"conflicts with existing data: {error.orig}") from None
            except OperationalError as error:
                if not is_database_busy(error):
                    raise
                if attempt == WRITE_ATTEMPTS:
                    raise DatabaseBusy(
                        f"the database stayed locked by other writers ({WRITE_ATTEMPTS} attempts)"
                    ) from error
                time.sleep(random.uniform(0.01, 0.05) * attempt)
                continue
            if events and self.after_commit is not None:
                self.after_commit(events)
            return result
        raise AssertionError("unreachable")

    # -- products ---------------------------------------------------------------------------------

    def create_product(self, tenant: str, data: models.ProductIn) -> models.Product:
        def work(session: Session, events: list[Event]) -> models.Product:
            if session.scalar(
                select(ProductRow.id).where(ProductRow.tenant_id == tenant, ProductRow.sku == data.sku)
            ):
                raise Conflict(f"a product with sku {data.sku!r} exists")
            row = ProductRow(id=_new_id("prd"), tenant_id=tenant, **data.model_dump())
            session.add(row)
            session.flush()
            events.append(
                record_event(
                    session,
                    tenant,
                    "product.created",
                    ProductCreated(product_id=row.id, **data.model_dump()),
                )
            )
            return _product(row)

        return self._change(work)

    def update_product(self, tenant: str, product_id: str, patch: models.ProductPatch) -> models.Product:
        def work(session: Session, events: list[Event]) -> models.Product:
            row = _get(session, ProductRow, tenant, product_id, "product")
            changed = [
                field
                for field, value in patch.model_dump(exclude_none=True).items()
                if getattr(row, field) != value
            ]
            for field in changed:
                setattr(row, field, getattr(patch, field))
            if changed:
                row.updated_at = utcnow()
                session.flush()
                events.append(
                    record_event(
                        session,
                        tenant,
                        "product.updated",
                        ProductUpdated(
                            product_id=row.id,
                            sku=row.sku,
                            name=row.name,
                            price_cents=row.price_cents,
                            currency=row.currency,
                            changed=changed,
                        ),
                    )
                )
            return _product(row)

        return self._change(work)

    def product(self, tenant: str, product_id: str) -> models.Product:
        with self.database.session() as session:
            return _product(_get(session, ProductRow, tenant, product_id, "product"))

    def products(self, tenant: str, limit: int = 100) -> list[models.Product]:
        with self.database.session() as session:
            rows = session.scalars(
                select(ProductRow).where(ProductRow.tenant_id == tenant).order_by(ProductRow.sku).limit(limit)
            ).all()
            return [_product(row) for row in rows]

    # -- customers --------------------------------------------------------------------------------

    def create_customer(self, tenant: str, data: models.CustomerIn) -> models.Customer:
        def work(session: Session, events: list[Event]) -> models.Customer:
            email = str(data.email).lower()
            if session.scalar(
                select(CustomerRow.id).where(CustomerRow.tenant_id == tenant, CustomerRow.email == email)
            ):
                raise Conflict(f"a customer with email {email!r} exists")
            row = CustomerRow(id=_new_id("cus"), tenant_id=tenant, email=email, name=data.name)
            session.add(row)
            session.flush()
            events.append(
                record_event(
                    session,
                    tenant,
                    "customer.created",
                    CustomerCreated(customer_id=row.id, email=email, name=row.name),
                )
            )
            return _customer(row)

        return self._change(work)

    def customer(self, tenant: str, customer_id: str) -> models.Customer:
        with self.database.session() as session:
            return _customer(_get(session, CustomerRow, tenant, customer_id, "customer"))

    def customers(self, tenant: str, limit: int = 100) -> list[models.Customer]:
        with self.database.session() as session:
            rows = session.scalars(
                select(CustomerRow)
                .where(CustomerRow.tenant_id == tenant)
                .order_by(CustomerRow.created_at)
                .limit(limit)
            ).all()
            return [_customer(row) for row in rows]

    # -- orders -----------------------------------------------------------------------------------

    def create_order(self, tenant: str, data: models.OrderIn) -> models.Order:
        def work(session: Session, events: list[Event]) -> models.Order:
            _get(session, CustomerRow, tenant, data.customer_id, "customer")
            products = {
                row.id: row
                for row in session.scalars(
                    select(ProductRow).where(
                        ProductRow.tenant_id == tenant,
                        ProductRow.id.in_([line.product_id for line in data.lines]),
                    )
                )
            }
            missing = sorted({line.product_id for line in data.lines} - set(products))
            if missing:
                raise NotFound(f"no product {', '.join(missing)}")
            currencies = {products[line.product_id].currency for line in data.lines}
            if len(currencies) > 1:
                raise CommerceError(
                    f"an order has one currency; these lines mix {', '.join(sorted(currencies))}"
                )
            order = OrderRow(
                id=_new_id("ord"),
                tenant_id=tenant,
                customer_id=data.customer_id,
                status="pending",
                total_cents=sum(products[line.product_id].price_cents * line.quantity for line in data.lines),
                currency=currencies.pop(),
            )
            session.add(order)
            session.flush()
            lines = [
                OrderLineRow(
                    order_id=order.id,
                    product_id=line.product_id,
                    sku=products[line.product_id].sku,
                    quantity=line.quantity,
                    unit_price_cents=products[line.product_id].price_cents,
                )
                for line in data.lines
            ]
            session.add_all(lines)
            session.flush()
            events.append(
                record_event(
                    session,
                    tenant,
                    "order.created",
                    OrderCreated(
                        order_id=order.id,
                        customer_id=order.customer_id,
                        status="pending",
                        total_cents=order.total_cents,
                        currency=order.currency,
                        lines=[
                            OrderLinePayload(
                                product_id=line.product_id,
                                sku=line.sku,
                                quantity=line.quantity,
                                unit_price_cents=line.unit_price_cents,
                            )
                            for line in lines
                        ],
                    ),
                )
            )
            return _order(session, order)

        return self._change(work)

    def order(self, tenant: str, order_id: str) -> models.Order:
        with self.database.session() as session:
            return _order(session, _get(session, OrderRow, tenant, order_id, "order"))

    def orders(self, tenant: str, limit: int = 100, newest_first: bool = False) -> list[models.Order]:
        order_by = OrderRow.created_at.desc() if newest_first else OrderRow.created_at
        with self.database.session() as session:
            rows = session.scalars(
                select(OrderRow).where(OrderRow.tenant_id == tenant).order_by(order_by).limit(limit)
            ).all()
            return [_order(session, row) for row in rows]

    def fulfil_order(self, tenant: str, order_id: str) -> models.Order:
        def work(session: Session, events: list[Event]) -> models.Order:
            order = _get(session, OrderRow, tenant, order_id, "order")
            _move(session, events, order, "fulfilled")
            return _order(session, order)

        return self._change(work)

    def cancel_order(self, tenant: str, order_id: str, reason: str) -> models.Order:
        def work(session: Session, events: list[Event]) -> models.Order:
            order = _get(session, OrderRow, tenant, order_id, "order")
            previous = order.status
            _move(session, events, order, "cancelled")
            events.append(
                record_event(
                    session,
                    tenant,
                    "order.cancelled",
                    OrderCancelled(order_id=order.id, previous=_status(previous), reason=reason),
                )
            )
            return _order(session, order)

        return self._change(work)

    def add_order_note(self, tenant: str, order_id: str, author: str, text: str) -> models.Order:
        problem = models.control_character(text, free_text=True) or models.control_character(author)
        if problem is not None:
            raise CommerceError(f"a note {problem}")

        def work(session: Session, _events: list[Event]) -> models.Order:
            order = _get(session, OrderRow, tenant, order_id, "order")
            session.add(OrderNoteRow(order_id=order.id, author=author, text=text))
            session.flush()
            return _order(session, order)

        return self._change(work)

    # -- payments ---------------------------------------------------------------------------------

    def create_payment(self, tenant: str, data: models.PaymentIn) -> models.Payment:
        def work(session: Session, events: list[Event]) -> models.Payment:
            order = _get(session, OrderRow, tenant, data.order_id, "order")
            if order.status != "pending":
                raise Conflict(f"order {order.id} is {order.status}; only a pending order takes a payment")
            row = PaymentRow(
                id=_new_id("pay"),
                tenant_id=tenant,
                order_id=order.id,
                status="created",
                amount_cents=order.total_cents,
                currency=order.currency,
            )
            session.add(row)
            session.flush()
            events.append(
                record_event(
                    session,
                    tenant,
                    "payment.created",
                    PaymentCreated(
                        payment_id=row.id,
                        order_id=order.id,
                        amount_cents=row.amount_cents,
                        currency=row.currency,
                    ),
                )
            )
            return _payment(row)

        return self._change(work)

    def complete_payment(self, tenant: str, payment_id: str) -> models.Payment:
        def work(session: Session, events: list[Event]) -> models.Payment:
            payment = _settle(session, tenant, payment_id, "completed", None)
            order = _get(session, OrderRow, tenant, payment.order_id, "order")
            if order.status != "pending":
                raise Conflict(f"order {order.id} is {order.status}; the payment cannot complete")
            events.append(
                record_event(
                    session,
                    tenant,
                    "payment.completed",
                    PaymentCompleted(
                        payment_id=payment.id,
                        order_id=order.id,
                        amount_cents=payment.amount_cents,
                        currency=payment.currency,
                    ),
                )
            )
            _move(session, events, order, "paid")
            return _payment(payment)

        return self._change(work)

    def fail_payment(self, tenant: str, payment_id: str, reason: str) -> models.Payment:
        def work(session: Session, events: list[Event]) -> models.Payment:
            payment = _settle(session, tenant, payment_id, "failed", reason)
            events.append(
                record_event(
                    session,
                    tenant,
                    "payment.failed",
                    PaymentFailed(payment_id=payment.id, order_id=payment.order_id, reason=reason),
                )
            )
            return _payment(payment)

        return self._change(work)

    def payment(self, tenant: str, payment_id: str) -> models.Payment:
        with self.database.session() as session:
            return _payment(_get(session, PaymentRow, tenant, payment_id, "payment"))


Row = TypeVar("Row", ProductRow, CustomerRow, OrderRow, PaymentRow)


def _get(session: Session, table: type[Row], tenant: str, row_id: str, what: str) -> Row:
    # An id the core cannot have made is not looked up (PostgreSQL refuses NUL in a literal).
    row = session.get(table, row_id) if _ID.match(row_id) else None
    # Another tenant's row is "not found" too: its existence is not ours to reveal.
    if row is None or row.tenant_id != tenant:
        raise NotFound(f"no {what} {row_id}")
    return row


def _status(value: str) -> OrderStatus:
    assert value in _TRANSITIONS
    return value  # type: ignore[return-value]


def _move(session: Session, events: list[Event], order: OrderRow, status: OrderStatus) -> None:
    previous = order.status
    if status not in _TRANSITIONS[previous]:
        allowed = ", ".join(sorted(_TRANSITIONS[previous])) or "none"
        raise Conflict(f"order {order.id} is {previous}; it cannot become {status} (allowed: {allowed})")
    order.status = status
    order.updated_at = utcnow()
    session.flush()
    events.append(
        record_event(
            session,
            order.tenant_id,
            "order.status-changed",
            OrderStatusChanged(order_id=order.id, previous=_status(previous), status=status),
        )
    )


def _settle(session: Session, tenant: str, payment_id: str, status: str, reason: str | None) -> PaymentRow:
    payment = _get(session, PaymentRow, tenant, payment_id, "payment")
    if payment.status != "created":
        raise Conflict(f"payment {payment.id} is already {payment.status}")
    payment.status = status
    payment.reason = reason
    payment.updated_at = utcnow()
    session.flush()
    return payment


def _product(row: ProductRow) -> models.Product:
    return models.Product(
        id=row.id,
        sku=row.sku,
        name=row.name,
        price_cents=row.price_cents,
        currency=row.currency,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _customer(row: CustomerRow) -> models.Customer:
    return models.Customer(id=row.id, email=row.email, name=row.name, created_at=row.created_at)


def _order(session: Session, row: OrderRow) -> models.Order:
    lines = session.scalars(
        select(OrderLineRow).where(OrderLineRow.order_id == row.id).order_by(OrderLineRow.id)
    )
    notes = session.scalars(
        select(OrderNoteRow).where(OrderNoteRow.order_id == row.id).order_by(OrderNoteRow.id)
    )
    return models.Order(
        id=row.id,
        customer_id=row.customer_id,
        status=_status(row.status),
        total_cents=row.total_cents,
        currency=row.currency,
        lines=[
            models.OrderLine(
                product_id=line.product_id,
                sku=line.sku,
                quantity=line.quantity,
                unit_price_cents=line.unit_price_cents,
            )
            for line in lines
        ],
        notes=[models.OrderNote(author=n.author, text=n.text, created_at=n.created_at) for n in notes],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _payment(row: PaymentRow) -> models.Payment:
    return models.Payment(
        id=row.id,
        order_id=row.order_id,
        status=row.status,  # type: ignore[arg-type]
        amount_cents=row.amount_cents,
        currency=row.currency,
        reason=row.reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
