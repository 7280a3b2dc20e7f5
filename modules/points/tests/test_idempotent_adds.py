"""points' ledger: an add with an idempotency key lands once, however it is retried or raced.

Races are forced, not hoped for: `rival_first` runs a second add through the service at the
worst moment of the first (after it looked for its key and read the balance, before its
insert), on the same tables, as a second worker passing the same checks at the same
instant and committing first would. The host-level race (threads through the real host)
is tests/host/test_points_ledger.py.
"""

from pathlib import Path
from typing import Any

import pytest

from trafi_sdk.testing import ModuleHarness

POINTS = Path(__file__).resolve().parents[1]


def rival_first(points: ModuleHarness, rival: dict[str, Any]) -> list[Any]:
    """Runs `rival` (an add) just before the next insert into the harness's module database;
    the list returned gets the rival's answer."""
    database = points.db
    insert = database.insert
    answers: list[Any] = []

    def insert_after_the_rival(op: Any) -> Any:
        database.insert = insert  # type: ignore[method-assign]  # once: the rival's insert goes in
        answers.append(points.call_service("balance", "add", rival))
        return insert(op)

    database.insert = insert_after_the_rival  # type: ignore[method-assign]
    return answers


def entries(points: ModuleHarness) -> list[tuple[str, int, int, int, str | None]]:
    rows = points.db.connection().execute(
        "SELECT customer, seq, points, balance, idempotency_key FROM mod_points__entry ORDER BY id"
    )
    return [tuple(row) for row in rows]


def add(points: ModuleHarness, customer: str, amount: int, key: str | None = None) -> Any:
    payload: dict[str, Any] = {"customer": customer, "points": amount}
    if key is not None:
        payload["key"] = key
    return points.call_service("balance", "add", payload)


def test_an_add_retried_with_its_key_lands_once_and_answers_the_first_balance() -> None:
    points = ModuleHarness(POINTS)
    assert add(points, "c1", 5, key="payment:e1") == {"customer": "c1", "points": 5, "replayed": False}
    assert add(points, "c1", 3)["points"] == 8  # no key: every call adds
    assert add(points, "c1", 5, key="payment:e1") == {"customer": "c1", "points": 5, "replayed": True}
    assert add(points, "c1", 5, key="payment:e1")["replayed"] is True
    assert points.call_service("balance", "get", {"customer": "c1"})["points"] == 8
    assert entries(points) == [("c1", 1, 5, 5, "payment:e1"), ("c1", 2, 3, 8, None)]


def test_a_key_is_per_tenant() -> None:
    points = ModuleHarness(POINTS)
    add(points, "c1", 5, key="payment:e1")
    assert points.call_service(
        "balance", "add", {"customer": "c1", "points": 5, "key": "payment:e1"}, tenant="globex"
    ) == {
        "customer": "c1",
        "points": 5,
        "replayed": False,
    }


@pytest.mark.parametrize(
    ("customer", "amount", "found"),
    [("c1", 6, "not 6 to c1"), ("c2", 5, "not 5 to c2")],
)
def test_a_key_reused_for_another_add_is_an_error_naming_the_key(
    customer: str, amount: int, found: str
) -> None:
    points = ModuleHarness(POINTS)
    add(points, "c1", 5, key="payment:e1")
    with pytest.raises(
        ValueError, match=rf"idempotency key 'payment:e1' was used to add 5 points to customer c1, {found}"
    ):
        add(points, customer, amount, key="payment:e1")
    assert entries(points) == [("c1", 1, 5, 5, "payment:e1")]


def test_a_rival_with_the_same_key_committing_first_makes_the_add_a_replay() -> None:
    points = ModuleHarness(POINTS)
    add(points, "c1", 10)
    rival = rival_first(points, {"customer": "c1", "points": 5, "key": "payment:e1"})
    answer = add(points, "c1", 5, key="payment:e1")
    # Both passed the lookup of the key; the rival's insert won, this one's lost on the key.
    assert rival == [{"customer": "c1", "points": 15, "replayed": False}]
    assert answer == {"customer": "c1", "points": 15, "replayed": True}
    assert entries(points) == [("c1", 1, 10, 10, None), ("c1", 2, 5, 15, "payment:e1")]


def test_a_rival_with_another_key_committing_first_sends_the_add_back_to_read_again() -> None:
    points = ModuleHarness(POINTS)
    add(points, "c1", 10)
    rival = rival_first(points, {"customer": "c1", "points": 7, "key": "payment:e2"})
    answer = add(points, "c1", 5, key="payment:e1")
    # Both read balance 10 (seq 1); the rival took seq 2, so this add read again: 17 + 5, not 10 + 5.
    assert rival[0]["points"] == 17
    assert answer == {"customer": "c1", "points": 22, "replayed": False}
    assert entries(points) == [
        ("c1", 1, 10, 10, None),
        ("c1", 2, 7, 17, "payment:e2"),
        ("c1", 3, 5, 22, "payment:e1"),
    ]


def test_the_balance_is_the_sum_of_the_entries_after_replays_and_races() -> None:
    points = ModuleHarness(POINTS)
    for index in range(5):
        add(points, "c1", index + 1, key=f"k{index}")
        add(points, "c1", index + 1, key=f"k{index}")
    rival_first(points, {"customer": "c1", "points": 100})
    add(points, "c1", 1000, key="k-last")
    database = points.db.connection()
    (total,) = database.execute("SELECT sum(points) FROM mod_points__entry").fetchone()
    assert total == 1 + 2 + 3 + 4 + 5 + 100 + 1000
    assert points.get("/v1/customers/c1").json() == {"customer": "c1", "points": total}
    assert points.render_view("overview")["root"]["children"][1]["children"][0]["rows"] == [
        {"customer": "c1", "points": total, "tier": "gold"}
    ]


def test_an_award_retried_with_its_idempotency_key_header_awards_once() -> None:
    points = ModuleHarness(POINTS)
    headers = {"Idempotency-Key": "form-42"}
    first = points.post("/v1/customers/c1/awards", json={"points": 50, "reason": "welcome"}, headers=headers)
    again = points.post("/v1/customers/c1/awards", json={"points": 50, "reason": "welcome"}, headers=headers)
    assert (
        (first.status, first.json())
        == (again.status, again.json())
        == (200, {"customer": "c1", "points": 50})
    )
    other = points.post("/v1/customers/c1/awards", json={"points": 60}, headers=headers)
    assert other.status == 422 and "idempotency key 'award:form-42'" in other.json()["error"]
    # The header's keys are the route's own: the same text from a service caller is another key.
    assert add(points, "c1", 60, key="form-42")["points"] == 110
    rows = points.db.connection().execute("SELECT reason, idempotency_key FROM mod_points__entry ORDER BY id")
    assert list(rows) == [("welcome", "award:form-42"), ("", "form-42")]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"customer": "", "points": 5}, "customer must be a non-empty string"),
        ({"customer": "c1", "points": 5, "key": ""}, "an idempotency key must be a non-empty string"),
        ({"customer": "c1", "points": -5, "key": "k"}, "points must be positive"),
    ],
)
def test_a_malformed_add_is_refused_and_leaves_nothing(payload: dict[str, Any], message: str) -> None:
    points = ModuleHarness(POINTS)
    with pytest.raises(ValueError, match=message):
        points.call_service("balance", "add", payload)
    assert entries(points) == []
