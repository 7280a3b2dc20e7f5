"""The order modules start in: dependencies first, cycles refused with the cycle spelled out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class StartPlan:
    order: list[str]  # modules to start, dependencies first
    refused: dict[str, str]  # module -> why it cannot start (cycles)


def start_plan(dependencies: Mapping[str, Mapping[str, str]]) -> StartPlan:
    """`dependencies`: module -> {dependency: range}, for the modules that should run.

    Dependencies that are not keys (not installed or not enabled) are left to the
    caller, which knows why they are missing; here they are ignored for ordering.
    """
    order: list[str] = []
    refused: dict[str, str] = {}
    state: dict[str, str] = {}  # visiting | done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = [*path[path.index(name) :], name]
            reason = "dependency cycle: " + " -> ".join(cycle)
            for member in cycle:
                refused.setdefault(member, reason)
            return
        state[name] = "visiting"
        for dependency in sorted(dependencies[name]):
            if dependency in dependencies:
                visit(dependency, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in sorted(dependencies):
        visit(name, [])
    return StartPlan([name for name in order if name not in refused], refused)
