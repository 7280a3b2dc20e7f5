"""points: a ledger per customer, offered to other modules as the `points.balance` service.

Its routes are typed (world 0.3.0): the SDK parses the JSON body into the handler's
dataclass, answers a 400 naming the field when it does not match, and declares the
request and response JSON Schemas to the host. `/v1` and `/v2` serve side by side.
"""

from dataclasses import dataclass
from typing import Any, Literal

from trafi_sdk import Module, Response, ViewRequest, kv

module = Module("points")

PREFIX = "balance:"
Tier = Literal["bronze", "silver", "gold"]


def _key(customer: str) -> str:
    return f"{PREFIX}{customer}"


def _balance(customer: str) -> int:
    return kv.increment(_key(customer), 0)


@module.service("balance", "get")
def balance_get(payload: Any, tenant: str) -> Any:
    return {"customer": payload["customer"], "points": _balance(payload["customer"])}


@module.service("balance", "add")
def balance_add(payload: Any, tenant: str) -> Any:
    points = int(payload["points"])
    if points <= 0:
        raise ValueError("points must be positive")
    return {"customer": payload["customer"], "points": kv.increment(_key(payload["customer"]), points)}


@dataclass
class Balance:
    """A customer's points."""

    customer: str
    points: int


@dataclass
class Award:
    """Points given by hand, with the reason shown in the ledger."""

    points: int
    reason: str = ""


@dataclass
class TieredBalance:
    """A customer's points and the tier they reach (v2)."""

    customer: str
    points: int
    tier: Tier


def _tier(points: int) -> Tier:
    return "gold" if points >= 1000 else "silver" if points >= 100 else "bronze"


@module.get("/v1/customers/{customer}", summary="A customer's balance")
def show(customer: str) -> Balance:
    return Balance(customer, _balance(customer))


@module.post("/v1/customers/{customer}/awards", summary="Award points by hand", permission="award")
def award(customer: str, body: Award) -> Balance | Response:
    if body.points <= 0:
        return Response.error(400, "points must be positive", field="points")
    return Balance(customer, kv.increment(_key(customer), body.points))


@module.get("/v2/customers/{customer}", summary="A customer's balance and tier")
def show_tiered(customer: str) -> TieredBalance:
    points = _balance(customer)
    return TieredBalance(customer, points, _tier(points))


@module.view("overview", title="Points overview", nav_label="Points")
def overview(request: ViewRequest) -> dict[str, Any]:
    """The balances of this tenant's customers, and a form to award points."""
    customers = [key[len(PREFIX) :] for key in kv.list_keys(PREFIX, 50)]
    rows = [[customer, _balance(customer), _tier(_balance(customer))] for customer in customers]
    return {
        "schema": "trafi-ui/1",
        "root": {
            "type": "card",
            "title": "Points",
            "children": [
                {"type": "text", "text": f"{len(rows)} customers with a balance"},
                {"type": "table", "columns": ["Customer", "Points", "Tier"], "rows": rows},
                {
                    "type": "chart",
                    "kind": "bar",
                    "series": [{"name": "points", "points": [[row[0], row[1]] for row in rows]}],
                },
                {
                    "type": "form",
                    "action": {"method": "POST", "path": "/v1/customers/{customer}/awards"},
                    "fields": [
                        {"name": "customer", "label": "Customer", "type": "text"},
                        {"name": "points", "label": "Points", "type": "number"},
                        {"name": "reason", "label": "Reason", "type": "text"},
                    ],
                },
            ],
        },
    }
