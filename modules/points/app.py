"""points: a ledger per customer, offered to other modules as the `points.balance` service."""

from typing import Any

from trafi_sdk import Module, Request, Response, kv

module = Module("points")


def _key(customer: str) -> str:
    return f"balance:{customer}"


@module.service("balance", "get")
def balance_get(payload: Any, tenant: str) -> Any:
    return {"customer": payload["customer"], "points": kv.increment(_key(payload["customer"]), 0)}


@module.service("balance", "add")
def balance_add(payload: Any, tenant: str) -> Any:
    points = int(payload["points"])
    if points <= 0:
        raise ValueError("points must be positive")
    return {"customer": payload["customer"], "points": kv.increment(_key(payload["customer"]), points)}


@module.get("/v1/customers/{customer}")
def show(request: Request) -> Response:
    customer = request.path_params["customer"]
    return Response.json({"customer": customer, "points": kv.increment(_key(customer), 0)})
