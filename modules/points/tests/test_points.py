"""points: its `balance` service, its typed routes and its view, in-process with trafi_sdk.testing.

The ledger's guarantee (an add with a key lands once) is attacked in test_idempotent_adds.py.
"""

from pathlib import Path

import pytest

from trafi_sdk import Principal
from trafi_sdk.testing import ModuleHarness

POINTS = Path(__file__).resolve().parents[1]


def test_balance_service_adds_and_reads() -> None:
    points = ModuleHarness(POINTS)
    assert points.call_service("balance", "add", {"customer": "c1", "points": 5}) == {
        "customer": "c1",
        "points": 5,
        "replayed": False,
    }
    assert points.call_service("balance", "add", {"customer": "c1", "points": 3})["points"] == 8
    assert points.call_service("balance", "get", {"customer": "c1"})["points"] == 8
    assert points.get("/v1/customers/c1").json() == {"customer": "c1", "points": 8}
    # Balances are per tenant: another store's customer c1 has none.
    assert points.call_service("balance", "get", {"customer": "c1"}, tenant="globex")["points"] == 0


def test_balance_service_refuses_non_positive_points() -> None:
    points = ModuleHarness(POINTS)
    with pytest.raises(ValueError, match="points must be positive"):
        points.call_service("balance", "add", {"customer": "c1", "points": 0})


def test_awards_are_typed_and_v1_and_v2_serve_side_by_side() -> None:
    points = ModuleHarness(POINTS)
    award = points.python_module.Award(points=150, reason="welcome")  # the handler's own type
    awarded = points.post("/v1/customers/c1/awards", json=award)
    assert (awarded.status, awarded.json()) == (200, {"customer": "c1", "points": 150})
    assert points.get("/v1/customers/c1").json() == {"customer": "c1", "points": 150}
    assert points.get("/v2/customers/c1").json() == {"customer": "c1", "points": 150, "tier": "silver"}


def test_an_award_that_does_not_match_its_type_is_a_400_naming_the_field() -> None:
    points = ModuleHarness(POINTS)
    wrong = points.post("/v1/customers/c1/awards", json={"points": "many"})
    assert (wrong.status, wrong.json()["field"]) == (400, "points")
    negative = points.post("/v1/customers/c1/awards", json={"points": -5})
    assert (negative.status, negative.json()["error"]) == (400, "points must be positive")


def test_the_routes_declare_versions_the_award_permission_and_schemas() -> None:
    declared = {(r.method, r.path): r for r in ModuleHarness(POINTS).module.route_declarations()}
    assert sorted(declared) == [
        ("GET", "/v1/customers/{customer}"),
        ("GET", "/v2/customers/{customer}"),
        ("POST", "/v1/customers/{customer}/awards"),
    ]
    award = declared["POST", "/v1/customers/{customer}/awards"]
    assert (award.version, award.permission) == ("v1", "award")
    assert award.request_schema is not None and award.request_schema["required"] == ["points"]
    tiered = declared["GET", "/v2/customers/{customer}"].response_schema
    assert tiered is not None and tiered["properties"]["tier"] == {"enum": ["bronze", "silver", "gold"]}


def test_the_overview_view_lists_balances_with_a_table_a_chart_and_a_form() -> None:
    points = ModuleHarness(POINTS)
    points.call_service("balance", "add", {"customer": "c1", "points": 1200})
    tree = points.render_view("overview")
    assert tree["schema"] == "trafi-ui/1"
    stats, balances, chart, award = tree["root"]["children"]
    assert [s["value"] for s in stats["children"]] == [1, 1200, 1]
    table = balances["children"][0]
    assert table["type"] == "table"
    assert table["rows"] == [{"customer": "c1", "points": 1200, "tier": "gold"}]
    assert chart["children"][0]["type"] == "chart"
    assert chart["children"][0]["data"] == [{"customer": "c1", "points": 1200}]
    form = award["children"][0]
    assert form["type"] == "form"
    assert form["action"] == {"method": "POST", "path": "v1/customers/{customer}/awards"}


def test_the_overview_view_offers_the_form_only_with_points_award() -> None:
    points = ModuleHarness(POINTS)
    reader = Principal("u1", "user", scopes=("points:use",))
    tree = points.render_view("overview", principal=reader)
    assert tree["root"]["children"][3]["children"][0]["type"] == "alert"
