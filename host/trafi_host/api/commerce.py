"""`/api/commerce/...`: products, customers, orders, payments of the key's tenant."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from ..auth import ApiKeyRecord
from ..commerce import models
from ..commerce.service import Commerce, CommerceError
from .auth import module_host, require_api_key
from .errors import ApiError

router = APIRouter(prefix="/api/commerce", tags=["commerce"])
T = TypeVar("T")


def _commerce(request: Request) -> Commerce:
    return module_host(request).commerce


async def _call(action: Callable[[], T]) -> T:
    try:
        return await run_in_threadpool(action)
    except CommerceError as error:
        raise ApiError(error.status, str(error)) from None


@router.post("/products", status_code=201, response_model=models.Product)
async def create_product(
    data: models.ProductIn, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> models.Product:
    return await _call(lambda: _commerce(request).create_product(key.tenant_id, data))


@router.get("/products", response_model=list[models.Product])
async def list_products(
    request: Request, limit: int = Query(100, ge=1, le=1000), key: ApiKeyRecord = Depends(require_api_key)
) -> list[models.Product]:
    return await _call(lambda: _commerce(request).products(key.tenant_id, limit))


@router.get("/products/{product_id}", response_model=models.Product)
async def get_product(
    product_id: str, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> models.Product:
    return await _call(lambda: _commerce(request).product(key.tenant_id, product_id))


@router.patch("/products/{product_id}", response_model=models.Product)
async def update_product(
    product_id: str,
    patch: models.ProductPatch,
    request: Request,
    key: ApiKeyRecord = Depends(require_api_key),
) -> models.Product:
    return await _call(lambda: _commerce(request).update_product(key.tenant_id, product_id, patch))


@router.post("/customers", status_code=201, response_model=models.Customer)
async def create_customer(
    data: models.CustomerIn, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> models.Customer:
    return await _call(lambda: _commerce(request).create_customer(key.tenant_id, data))


@router.get("/customers", response_model=list[models.Customer])
async def list_customers(
    request: Request, limit: int = Query(100, ge=1, le=1000), key: ApiKeyRecord = Depends(require_api_key)
) -> list[models.Customer]:
    return await _call(lambda: _commerce(request).customers(key.tenant_id, limit))


@router.get("/customers/{customer_id}", response_model=models.Customer)
async def get_customer(
    customer_id: str, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> models.Customer:
    return await _call(lambda: _commerce(request).customer(key.tenant_id, customer_id))


@router.post("/orders", status_code=201, response_model=models.Order)
async def create_order(
    data: models.OrderIn, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> models.Order:
    return await _call(lambda: _commerce(request).create_order(key.tenant_id, data))


@router.get("/orders", response_model=list[models.Order])
async def list_orders(
    request: Request, limit: int = Query(100, ge=1, le=1000), key: ApiKeyRecord = Depends(require_api_key)
) -> list[models.Order]:
    return await _call(lambda: _commerce(request).orders(key.tenant_id, limit))


@router.get("/orders/{order_id}", response_model=models.Order)
async def get_order(
    order_id: str, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> models.Order:
    return await _call(lambda: _commerce(request).order(key.tenant_id, order_id))


@router.post("/orders/{order_id}/status", response_model=models.Order)
async def change_order_status(
    order_id: str, change: models.StatusChange, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> models.Order:
    return await _call(lambda: _commerce(request).fulfil_order(key.tenant_id, order_id))


@router.post("/orders/{order_id}/cancel", response_model=models.Order)
async def cancel_order(
    order_id: str, data: models.Cancellation, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> models.Order:
    return await _call(lambda: _commerce(request).cancel_order(key.tenant_id, order_id, data.reason))


@router.post("/orders/{order_id}/notes", status_code=201, response_model=models.Order)
async def add_order_note(
    order_id: str, note: models.NoteIn, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> models.Order:
    author = f"api key {key.key_id} ({key.name})"
    return await _call(lambda: _commerce(request).add_order_note(key.tenant_id, order_id, author, note.text))


@router.post("/payments", status_code=201, response_model=models.Payment)
async def create_payment(
    data: models.PaymentIn, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> models.Payment:
    return await _call(lambda: _commerce(request).create_payment(key.tenant_id, data))


@router.get("/payments/{payment_id}", response_model=models.Payment)
async def get_payment(
    payment_id: str, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> models.Payment:
    return await _call(lambda: _commerce(request).payment(key.tenant_id, payment_id))


@router.post("/payments/{payment_id}/complete", response_model=models.Payment)
async def complete_payment(
    payment_id: str, request: Request, key: ApiKeyRecord = Depends(require_api_key)
) -> models.Payment:
    return await _call(lambda: _commerce(request).complete_payment(key.tenant_id, payment_id))


@router.post("/payments/{payment_id}/fail", response_model=models.Payment)
async def fail_payment(
    payment_id: str,
    data: models.PaymentFailure,
    request: Request,
    key: ApiKeyRecord = Depends(require_api_key),
) -> models.Payment:
    return await _call(lambda: _commerce(request).fail_payment(key.tenant_id, payment_id, data.reason))
