"""What the commerce API takes and returns (and what core services give modules).

The request models are the API boundary: strict types (`false` is not `0`, `"12"` is
not `12`), text without control characters (PostgreSQL cannot store NUL), ids of a
known shape, and amounts bounded so that no order the API admits overflows a column
or a JSON number a JavaScript client reads exactly (2**53).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from ..events.catalogue import OrderStatus, PaymentStatus

Currency = str

MAX_PRICE_CENTS = 100_000_000
MAX_QUANTITY = 10_000
MAX_ORDER_LINES = 500
MAX_TOTAL_CENTS = MAX_PRICE_CENTS * MAX_QUANTITY * MAX_ORDER_LINES
# The money columns are BIGINT; JSON clients read integers exactly up to 2**53.
assert MAX_TOTAL_CENTS < 2**53

ID_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"
"""Ids the core makes are `prd_`/`cus_`/`ord_`/`pay_` and 16 hex digits; anything else is no id."""

# C0 control characters (NUL included), DEL, and lone UTF-16 surrogates (JSON's
# "\ud800" decodes to one; it has no UTF-8 form, so no database or response can hold it).
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def control_character(value: str, free_text: bool = False) -> str | None:
    """What is wrong with `value` if it holds a character no text field may: None if nothing."""
    found = (_CONTROL_IN_TEXT if free_text else _CONTROL_IN_LINE).search(value)
    if found is None:
        return None
    allowed = "text may hold tabs and line breaks, no other controls" if free_text else "one line of text"
    return (
        f"contains the control character U+{ord(found.group()):04X} at position {found.start()} ({allowed})"
    )


def _refuse(free_text: bool) -> AfterValidator:
    def check(value: str) -> str:
        problem = control_character(value, free_text)
        if problem is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


Line = Annotated[str, _refuse(free_text=False)]
"""A name or a label: one line, no control characters."""
Name = Annotated[Line, Field(min_length=1, max_length=200)]
Text = Annotated[str, _refuse(free_text=True)]
"""Free text (a note, a reason): tabs and line breaks allowed, no other control character."""


def _whole_number(value: Any) -> Any:
    # JSON has one number type: 12.0 is an integer by JSON Schema's rules, `true` is not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


def _in_utc(value: datetime) -> datetime:
    # SQLite keeps no offset: its timestamps are UTC (db/schema.py `utcnow`), and an answer's
    # `date-time` needs the offset (RFC 3339), which PostgreSQL's come with.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


Timestamp = Annotated[datetime, AfterValidator(_in_utc)]
"""A moment the API answers with: always with its offset."""
Id = Annotated[str, Field(pattern=ID_PATTERN)]


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestModel(ApiModel):
    """A request body: strict types, so `false` is not `0` and `"12"` is not `12`."""

    model_config = ConfigDict(extra="forbid", strict=True)


Price = Annotated[WholeNumber, Field(ge=0, le=MAX_PRICE_CENTS)]
Total = Annotated[int, Field(ge=0, le=MAX_TOTAL_CENTS)]


class ProductIn(RequestModel):
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: Name
    price_cents: Price
    currency: Currency = Field(default="EUR", pattern=r"^[A-Z]{3}$")


class ProductPatch(RequestModel):
    name: Name | None = None
    price_cents: Price | None = None


class Product(ApiModel):
    id: str
    sku: str
    name: str
    price_cents: Annotated[int, Field(ge=0, le=MAX_PRICE_CENTS)]
    currency: Currency
    created_at: Timestamp
    updated_at: Timestamp


class CustomerIn(RequestModel):
    email: EmailStr = Field(max_length=254)
    name: Name


class Customer(ApiModel):
    id: str
    email: str
    name: str
    created_at: Timestamp


class OrderLineIn(RequestModel):
    product_id: Id
    quantity: Annotated[WholeNumber, Field(ge=1, le=MAX_QUANTITY)]


class OrderIn(RequestModel):
    customer_id: Id
    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_ORDER_LINES)


class OrderLine(ApiModel):
    product_id: str
    sku: str
    quantity: int
    unit_price_cents: int


class OrderNote(ApiModel):
    author: str
    text: str
    created_at: Timestamp


class Order(ApiModel):
    id: str
    customer_id: str
    status: OrderStatus
    total_cents: Total
    currency: Currency
    lines: list[OrderLine]
    notes: list[OrderNote]
    created_at: Timestamp
    updated_at: Timestamp


class StatusChange(RequestModel):
    status: Literal["fulfilled"] = Field(
        description="The one move made by hand: `paid` follows a completed payment, "
        "`cancelled` has its own call."
    )


class Cancellation(RequestModel):
    reason: Text = Field(min_length=1, max_length=500)


class NoteIn(RequestModel):
    text: Text = Field(min_length=1, max_length=2000)


class PaymentIn(RequestModel):
    order_id: Id


class PaymentFailure(RequestModel):
    reason: Text = Field(min_length=1, max_length=500)


class Payment(ApiModel):
    id: str
    order_id: str
    status: PaymentStatus
    amount_cents: Total
    currency: Currency
    reason: str | None
    created_at: Timestamp
    updated_at: Timestamp
