"""The points ledger: one row per change in `mod_points__entry`, the balance written on each row.

An add is one INSERT, so the entry and the balance it leads to commit together or not at
all. Two keys of the table do the rest (migrations/0001_ledger.up.sql):

- `(customer, seq)`: an add reads the customer's latest entry and inserts the next `seq`
  with the new balance; a concurrent add that took that `seq` first makes the insert fail,
  and the add reads again. No balance is ever computed from a stale read.
- `idempotency_key`: an add retried with the same key (a redelivered event, a client's
  retry, two workers running the same delivery) finds the first one's entry and answers
  its balance with `replayed` set, and inserts nothing. A concurrent retry that passed the
  lookup loses the insert on this key and answers the same way.
"""

from dataclasses import dataclass
from typing import Any

from trafi_sdk import InvalidArgument, db

entries = db.table("entry")
# Each failed attempt means another add for this customer committed: this many in a row
# is a customer under a storm of adds, answered with an error the caller may retry.
MAX_ATTEMPTS = 50


@dataclass(frozen=True)
class Added:
    """What an add left: the customer's balance after it, and whether it was a replay."""

    customer: str
    balance: int
    replayed: bool


def balance(customer: str) -> int:
    """The customer's points: the balance of their latest entry (0 without one)."""
    latest = entries.first(columns=["balance"], where={"customer": customer}, order_by=["-seq"])
    return 0 if latest is None else int(latest["balance"])


def first_balances() -> list[tuple[str, int]]:
    """The first 50 customers by name and their points (the sum of their entries is the balance)."""
    rows = db.query(
        "SELECT customer, sum(points) AS points FROM mod_points__entry "
        "GROUP BY customer ORDER BY customer LIMIT 50"
    )
    return [(str(row["customer"]), int(row["points"])) for row in rows]


def add(customer: str, points: int, key: str | None = None, reason: str = "") -> Added:
    """Adds `points` to the customer's balance once per `key` (every time without one)."""
    if not customer:
        raise ValueError("customer must be a non-empty string")
    if points <= 0:
        raise ValueError("points must be positive")
    if key is not None and not key:
        raise ValueError("an idempotency key must be a non-empty string")
    for _ in range(MAX_ATTEMPTS):
        if key is not None:
            earlier = _entry_for(key)
            if earlier is not None:
                return _replay(earlier, customer, points, key)
        latest = entries.first(columns=["seq", "balance"], where={"customer": customer}, order_by=["-seq"])
        seq, total = (0, 0) if latest is None else (int(latest["seq"]), int(latest["balance"]))
        try:
            entries.insert(
                {
                    "customer": customer,
                    "seq": seq + 1,
                    "points": points,
                    "balance": total + points,
                    "idempotency_key": key,
                    "reason": reason,
                }
            )
        except InvalidArgument:
            # Refused by a key: another add committed first, with this key (the next round
            # replays it) or with this customer's next seq (the next round reads again).
            if _lost_a_race(customer, seq + 1, key):
                continue
            raise
        return Added(customer, total + points, replayed=False)
    raise RuntimeError(
        f"customer {customer}'s balance changed {MAX_ATTEMPTS} times while adding {points} points: try again"
    )


def _entry_for(key: str) -> dict[str, Any] | None:
    return entries.first(columns=["customer", "points", "balance"], where={"idempotency_key": key})


def _lost_a_race(customer: str, seq: int, key: str | None) -> bool:
    taken_key = key is not None and _entry_for(key) is not None
    return taken_key or entries.count(where={"customer": customer, "seq": seq}) > 0


def _replay(earlier: dict[str, Any], customer: str, points: int, key: str) -> Added:
    if (earlier["customer"], int(earlier["points"])) != (customer, points):
        raise ValueError(
            f"idempotency key {key!r} was used to add {earlier['points']} points to customer "
            f"{earlier['customer']}, not {points} to {customer}: a key names one add"
        )
    return Added(customer, int(earlier["balance"]), replayed=True)
