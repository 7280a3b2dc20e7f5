"""`/api/commerce/...`: products, customers, orders, payments of the caller's tenant.

Reading needs `commerce:read`, creating and changing `commerce:write`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from ..auth.caller import Caller
from ..commerce import models
from ..commerce.service import Commerce, CommerceError
from .auth import module_host, require
from .errors import ApiError

router = APIRouter(prefix="/api/commerce", tags=["commerce"])
T = TypeVar("T")


@dataclass(frozen=True)
class TenantCommerce:
    """The commerce core bound to the tenant of the request's caller."""

    commerce: Commerce
    caller: Caller

    async def run(self, action: Callable[[Commerce, str], T]) -> T:
        try:
            return await run_in_threadpool(action, self.commerce, self.caller.tenant_id)
        except CommerceError as error:
            raise ApiError(error.status, str(error)) from None


may_read = require("commerce:read")
may_write = require("commerce:write")


async def reading(request: Request, caller: Caller = Depends(may_read)) -> TenantCommerce:
    return TenantCommerce(module_host(request).commerce, caller)


async def writing(request: Request, caller: Caller = Depends(may_write)) -> TenantCommerce:
    return TenantCommerce(module_host(request).commerce, caller)


Reader = Annotated[TenantCommerce, Depends(reading)]
Writer = Annotated[TenantCommerce, Depends(writing)]
Limit = Annotated[int, Query(ge=1, le=1000)]
# An id in the path that the core cannot have made is a 422, not a lookup.
RowId = Annotated[str, Path(pattern=models.ID_PATTERN)]


@router.post("/products", status_code=201, response_model=models.Product)
async def create_product(data: models.ProductIn, store: Writer) -> models.Product:
    return await store.run(lambda c, t: c.create_product(t, data))


@router.get("/products", response_model=list[models.Product])
async def list_products(store: Reader, limit: Limit = 100) -> list[models.Product]:
    return await store.run(lambda c, t: c.products(t, limit))


@router.get("/products/{product_id}", response_model=models.Product)
async def get_product(product_id: RowId, store: Reader) -> models.Product:
    return await store.run(lambda c, t: c.product(t, product_id))


@router.patch("/products/{product_id}", response_model=models.Product)
async def update_product(
    product_id: RowId,
    patch: models.ProductPatch,
    store: Writer,
) -> models.Product:
    return await store.run(lambda c, t: c.update_product(t, product_id, patch))


@router.post("/customers", status_code=201, response_model=models.Customer)
async def create_customer(data: models.CustomerIn, store: Writer) -> models.Customer:
    return await store.run(lambda c, t: c.create_customer(t, data))


@router.get("/customers", response_model=list[models.Customer])
async def list_customers(store: Reader, limit: Limit = 100) -> list[models.Customer]:
    return await store.run(lambda c, t: c.customers(t, limit))


@router.get("/customers/{customer_id}", response_model=models.Customer)
async def get_customer(customer_id: RowId, store: Reader) -> models.Customer:
    return await store.run(lambda c, t: c.customer(t, customer_id))


@router.post("/orders", status_code=201, response_model=models.Order)
async def create_order(data: models.OrderIn, store: Writer) -> models.Order:
    return await store.run(lambda c, t: c.create_order(t, data))


@router.get("/orders", response_model=list[models.Order])
async def list_orders(store: Reader, limit: Limit = 100) -> list[models.Order]:
    return await store.run(lambda c, t: c.orders(t, limit))


@router.get("/orders/{order_id}", response_model=models.Order)
async def get_order(order_id: RowId, store: Reader) -> models.Order:
    return await store.run(lambda c, t: c.order(t, order_id))


@router.post("/orders/{order_id}/status", response_model=models.Order)
async def change_order_status(order_id: RowId, change: models.StatusChange, store: Writer) -> models.Order:
    return await store.run(lambda c, t: c.fulfil_order(t, order_id))


@router.post("/orders/{order_id}/cancel", response_model=models.Order)
async def cancel_order(order_id: RowId, data: models.Cancellation, store: Writer) -> models.Order:
    return await store.run(lambda c, t: c.cancel_order(t, order_id, data.reason))


@router.post("/orders/{order_id}/notes", status_code=201, response_model=models.Order)
async def add_order_note(order_id: RowId, note: models.NoteIn, store: Writer) -> models.Order:
    caller = store.caller
    author = f"api key {caller.id} ({caller.name})" if caller.kind == "api-key" else f"user {caller.name}"
    return await store.run(lambda c, t: c.add_order_note(t, order_id, author, note.text))


@router.post("/payments", status_code=201, response_model=models.Payment)
async def create_payment(data: models.PaymentIn, store: Writer) -> models.Payment:
    return await store.run(lambda c, t: c.create_payment(t, data))


@router.get("/payments/{payment_id}", response_model=models.Payment)
async def get_payment(payment_id: RowId, store: Reader) -> models.Payment:
    return await store.run(lambda c, t: c.payment(t, payment_id))


@router.post("/payments/{payment_id}/complete", response_model=models.Payment)
async def complete_payment(payment_id: RowId, store: Writer) -> models.Payment:
    return await store.run(lambda c, t: c.complete_payment(t, payment_id))


@router.post("/payments/{payment_id}/fail", response_model=models.Payment)
async def fail_payment(
    payment_id: RowId,
    data: models.PaymentFailure,
    store: Writer,
) -> models.Payment:
    return await store.run(lambda c, t: c.fail_payment(t, payment_id, data.reason))
