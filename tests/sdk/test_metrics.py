"""`trafi_sdk.metrics` against a stand-in for the generated bindings: what reaches the host."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from trafi_sdk import _bindings, metrics
from trafi_sdk.errors import InvalidArgument, NotInComponent


class HostErrorInvalidArgument:  # named like the generated case
    def __init__(self, value: str) -> None:
        self.value = value


HostErrorInvalidArgument.__name__ = "HostError_InvalidArgument"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, float, list[tuple[str, str]]]]:
    seen: list[tuple[str, str, float, list[tuple[str, str]]]] = []

    def operation(kind: str) -> Any:
        def call(name: str, value: float, labels: list[tuple[str, str]]) -> None:
            if name == "undeclared_total":
                error = _bindings.WitErr()
                error.value = HostErrorInvalidArgument("declares no metric 'undeclared_total'")
                raise error
            seen.append((kind, name, value, labels))

        return call

    fake = SimpleNamespace(add=operation("add"), set=operation("set"), observe=operation("observe"))
    monkeypatch.setattr(_bindings, "wit_metrics", fake)
    return seen


def test_each_object_records_through_its_wit_function(calls: list[Any]) -> None:
    metrics.counter("points_awarded_total").inc(reason="order")
    metrics.counter("points_awarded_total").add(40, reason="order")
    metrics.gauge("customers_rewarded").set(3)
    metrics.gauge("customers_rewarded").dec()
    with metrics.histogram("reward_duration_seconds").time(kind="paid"):
        pass
    assert calls[:4] == [
        ("add", "points_awarded_total", 1.0, [("reason", "order")]),
        ("add", "points_awarded_total", 40.0, [("reason", "order")]),
        ("set", "customers_rewarded", 3.0, []),
        ("add", "customers_rewarded", -1.0, []),
    ]
    kind, name, seconds, labels = calls[4]
    assert (kind, name, labels) == ("observe", "reward_duration_seconds", [("kind", "paid")])
    assert 0 <= seconds < 1


def test_a_refusal_is_the_sdk_error(calls: list[Any]) -> None:
    with pytest.raises(InvalidArgument, match="declares no metric"):
        metrics.counter("undeclared_total").inc()


def test_outside_a_component_it_says_so() -> None:
    with pytest.raises(NotInComponent):
        metrics.counter("points_awarded_total").inc()
