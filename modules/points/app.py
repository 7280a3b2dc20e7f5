"""points: a ledger per customer, offered to other modules as the `points.balance` service.

The ledger is a table of the module database (ledger.py): an add with an idempotency
`key` lands once however often it is retried, which is what lets a caller that is
delivered an event at least once award its points exactly once.

Its routes are typed (world 0.3.0): the SDK parses the JSON body into the handler's
dataclass, answers a 400 naming the field when it does not match, and declares the
request and response JSON Schemas to the host. `/v1` and `/v2` serve side by side.
"""

from dataclasses import dataclass
from typing import Any, Literal

import ledger

from trafi_sdk import Module, Request, Response, ViewRequest

module = Module("points")

Tier = Literal["bronze", "silver", "gold"]


@module.service("balance", "get")
def balance_get(payload: Any, tenant: str) -> Any:
    return {"customer": payload["customer"], "points": ledger.balance(payload["customer"])}


@module.service("balance", "add")
def balance_add(payload: Any, tenant: str) -> Any:
    # `key` (optional): the same key twice adds once; the second answer is the first's balance.
    added = ledger.add(str(payload["customer"]), int(payload["points"]), key=payload.get("key"))
    return {"customer": added.customer, "points": added.balance, "replayed": added.replayed}


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
    return Balance(customer, ledger.balance(customer))


@module.post("/v1/customers/{customer}/awards", summary="Award points by hand", permission="award")
def award(customer: str, body: Award, request: Request) -> Balance | Response:
    """A request retried with the same `Idempotency-Key` header awards once."""
    if body.points <= 0:
        return Response.error(400, "points must be positive", field="points")
    header = request.header("idempotency-key")
    # Prefixed: a client's key never meets the keys other modules send to the service.
    key = None if header is None else f"award:{header}"
    try:
        added = ledger.add(customer, body.points, key=key, reason=body.reason)
    except ValueError as error:  # the key was used for another award
        return Response.error(422, str(error))
    return Balance(customer, added.balance)


@module.get("/v2/customers/{customer}", summary="A customer's balance and tier")
def show_tiered(customer: str) -> TieredBalance:
    points = ledger.balance(customer)
    return TieredBalance(customer, points, _tier(points))


@module.view("overview", title="Points overview", nav_label="Points")
def overview(request: ViewRequest) -> dict[str, Any]:
    """This tenant's balances as a table and a chart, and a form to award points (shown to a
    user holding `points:award`, which its endpoint requires anyway): a `trafi-ui/1` tree."""
    balances = ledger.first_balances()
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
