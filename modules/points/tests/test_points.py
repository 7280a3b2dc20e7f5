"""points: its `balance` service and its route, in-process with trafi_sdk.testing."""

from pathlib import Path

import pytest

from trafi_sdk.testing import ModuleHarness

POINTS = Path(__file__).resolve().parents[1]


def test_balance_service_adds_and_reads() -> None:
    points = ModuleHarness(POINTS)
    assert points.call_service("balance", "add", {"customer": "c1", "points": 5}) == {
        "customer": "c1",
        "points": 5,
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
