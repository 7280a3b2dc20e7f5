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
    """This tenant's balances as a table and a chart, and a form to award points (shown to a
    user holding `points:award`, which its endpoint requires anyway): a `trafi-ui/1` tree."""
    customers = [key[len(PREFIX) :] for key in kv.list_keys(PREFIX, 50)]
    balances = [(customer, _balance(customer)) for customer in customers]
    rows = [{"customer": name, "points": points, "tier": _tier(points)} for name, points in balances]
    may_award = "points:award" in request.principal.scopes
    award: dict[str, Any] = (
        {
            "type": "form",
            "id": "award",
            "action": {"method": "POST", "path": "v1/customers/{customer}/awards"},
            "fields": [
                {"name": "customer", "label": "Customer", "kind": "text", "required": True},
                {"name": "points", "label": "Points", "kind": "number", "required": True},
                {"name": "reason", "label": "Reason", "kind": "text"},
            ],
            "submitLabel": "Award",
            "successMessage": "Points awarded.",
        }
        if may_award
        else {"type": "alert", "tone": "info", "text": "Awarding points needs the permission points:award."}
    )
    return {
        "schema": "trafi-ui/1",
        "title": "Points",
        "root": {
            "type": "stack",
            "children": [
                {
                    "type": "row",
                    "children": [
                        {"type": "stat", "label": "Customers", "value": len(rows)},
                        {"type": "stat", "label": "Points held", "value": sum(p for _, p in balances)},
                        {
                            "type": "stat",
                            "label": "Gold tier",
                            "value": sum(r["tier"] == "gold" for r in rows),
                        },
                    ],
                },
                {
                    "type": "card",
                    "title": "Balances",
                    "children": [
                        {
                            "type": "table",
                            "columns": [
                                {"key": "customer", "label": "Customer"},
                                {"key": "points", "label": "Points"},
                                {"key": "tier", "label": "Tier"},
                            ],
                            "rows": rows,
                            "empty": "No customer has points yet.",
                        }
                    ],
                },
                {
                    "type": "card",
                    "title": "Points per customer",
                    "children": [
                        {
                            "type": "chart",
                            "kind": "bar",
                            "x": "customer",
                            "series": [{"key": "points", "label": "Points"}],
                            "data": [{"customer": name, "points": points} for name, points in balances],
                        }
                    ],
                },
                {"type": "card", "title": "Award points", "children": [award]},
            ],
        },
    }
