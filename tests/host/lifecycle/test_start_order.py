"""Start order: dependencies first; cycles refused with the whole cycle named."""

from __future__ import annotations

from trafi_host.lifecycle.start_order import start_plan


def test_dependencies_start_first() -> None:
    plan = start_plan({"loyalty": {"tiers": "^1"}, "tiers": {"customers": "^1"}, "customers": {}})
    assert plan.order == ["customers", "tiers", "loyalty"]
    assert plan.refused == {}


def test_a_cycle_is_refused_and_spelled_out() -> None:
    plan = start_plan({"a": {"b": "^1"}, "b": {"c": "^1"}, "c": {"a": "^1"}, "d": {}})
    assert plan.order == ["d"]
    assert plan.refused == {m: "dependency cycle: a -> b -> c -> a" for m in ("a", "b", "c")}


def test_missing_dependencies_do_not_affect_order() -> None:
    plan = start_plan({"a": {"ghost": "^1"}})
    assert plan.order == ["a"]
