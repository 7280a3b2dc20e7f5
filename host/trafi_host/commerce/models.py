"""What the commerce API takes and returns (and what core services give modules)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from ..events.catalogue import OrderStatus, PaymentStatus

Currency = str


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductIn(ApiModel):
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    name: str = Field(min_length=1, max_length=200)
    price_cents: int = Field(ge=0, le=100_000_000)
    currency: Currency = Field(default="EUR", pattern=r"^[A-Z]{3}$")


class ProductPatch(ApiModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    price_cents: int | None = Field(default=None, ge=0, le=100_000_000)


class Product(ProductIn):
    id: str
    created_at: datetime
    updated_at: datetime


class CustomerIn(ApiModel):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)


class Customer(CustomerIn):
    id: str
    created_at: datetime


class OrderLineIn(ApiModel):
    product_id: str
    quantity: int = Field(ge=1, le=10_000)


class OrderIn(ApiModel):
    customer_id: str
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)


class OrderLine(ApiModel):
    product_id: str
    sku: str
    quantity: int
    unit_price_cents: int


class OrderNote(ApiModel):
    author: str
    text: str
    created_at: datetime


class Order(ApiModel):
    id: str
    customer_id: str
    status: OrderStatus
    total_cents: int
    currency: Currency
    lines: list[OrderLine]
    notes: list[OrderNote]
    created_at: datetime
    updated_at: datetime


class StatusChange(ApiModel):
    status: Literal["fulfilled"] = Field(
        description="The one move made by hand: `paid` follows a completed payment, "
        "`cancelled` has its own call."
    )


class Cancellation(ApiModel):
    reason: str = Field(min_length=1, max_length=500)


class NoteIn(ApiModel):
    text: str = Field(min_length=1, max_length=2000)


class PaymentIn(ApiModel):
    order_id: str


class PaymentFailure(ApiModel):
    reason: str = Field(min_length=1, max_length=500)


class Payment(ApiModel):
    id: str
    order_id: str
    status: PaymentStatus
    amount_cents: int
    currency: Currency
    reason: str | None
    created_at: datetime
    updated_at: datetime
