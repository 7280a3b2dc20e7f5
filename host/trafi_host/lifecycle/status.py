"""Which installed modules run, and why each other one does not: one decision for hosts and listings.

`decide` says, for every installed module, `run`, `disabled`, `quarantined` or
`failed` with the reason, and the order the runners start in. A module cannot
run when the state table disables or quarantines it, when its manifest cannot
be read or does not admit this host, when it is in a dependency cycle, or when
a dependency is not installed, does not run, or is outside the range it needs.

Nothing here touches the outside world: `trafi module list` reads the
decisions as they are. A host also passes `apply`, which starts and stops each
module as its decision is made, dependencies first; a start that fails at run
time (an `init` that traps) comes back `failed`, and its dependents fail in
turn with that reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import nodesemver

from ..compatibility import compatibility_problem
from ..manifest.model import Manifest
from .module_state import DesiredState
from .start_order import start_plan

Status = Literal["run", "disabled", "quarantined", "failed"]


@dataclass(frozen=True)
class Decision:
    status: Status
    reason: str | None = None  # why it is quarantined or failed

    @property
    def runs(self) -> bool:
        return self.status == "run"


RUN = Decision("run")
DISABLED = Decision("disabled")


def failed(reason: str) -> Decision:
    return Decision("failed", reason)


@dataclass(frozen=True)
class Decisions:
    modules: dict[str, Decision]  # every installed module, in the order decided
    start_order: list[str]  # the modules that run, dependencies first


# Carries out one decision and returns it as carried out (a `run` may come back `failed`).
Apply = Callable[[str, Decision], Decision]


def decide(
    installed: Mapping[str, str],
    desired: Mapping[str, DesiredState],
    manifests: Mapping[str, Manifest | str],
    compatibility: Callable[[Manifest], str | None] = compatibility_problem,
    apply: Apply | None = None,
) -> Decisions:
    """The decision for every installed module.

    `installed`: module -> installed version; `desired`: module -> what the
    state table wants, for every installed module; `manifests`: module -> its
    manifest, or why it cannot be read, for at least every module that is
    enabled and not quarantined. `apply`, when given, is called once per
    module as soon as its decision is made: first the modules that cannot run
    whatever else happens, then the others in start order, so that what a
    dependent sees is what became of its dependencies.
    """
    decided: dict[str, Decision] = {}

    def settle(name: str, decision: Decision) -> None:
        decided[name] = apply(name, decision) if apply is not None else decision

    wanted: dict[str, str] = {}  # enabled and not quarantined: module -> version
    startable: dict[str, Manifest] = {}
    for name in sorted(installed):
        state = desired[name]
        if state.quarantined:
            settle(name, Decision("quarantined", state.quarantined))
            continue
        if not state.enabled:
            settle(name, DISABLED)
            continue
        wanted[name] = installed[name]
        manifest = manifests[name]
        if isinstance(manifest, str):
            settle(name, failed(manifest))
        elif (problem := compatibility(manifest)) is not None:
            settle(name, failed(problem))
        else:
            startable[name] = manifest
    plan = start_plan({name: manifest.dependencies for name, manifest in startable.items()})
    for name, cycle in sorted(plan.refused.items()):
        settle(name, failed(cycle))
    for name in plan.order:
        problem = dependency_problem(startable[name].dependencies, wanted, decided)
        settle(name, RUN if problem is None else failed(problem))
    return Decisions(decided, [name for name in plan.order if decided[name].runs])


def dependency_problem(
    dependencies: Mapping[str, str], wanted: Mapping[str, str], decided: Mapping[str, Decision]
) -> str | None:
    """Why a module cannot run given its dependencies, or None.

    `wanted`: the modules enabled and not quarantined (name -> installed
    version); `decided`: the decisions made so far, which include every
    dependency when the module comes in start order.
    """
    for dependency, needed in sorted(dependencies.items()):
        decision = decided.get(dependency)
        if dependency not in wanted:
            return f"dependency {dependency} is {decision.status if decision else 'not installed'}"
        if decision is None or not decision.runs:
            return f"dependency {dependency} failed: {decision.reason if decision else 'not started'}"
        if not nodesemver.satisfies(wanted[dependency], needed, False):
            return f"needs {dependency} {needed}; installed is {wanted[dependency]}"
    return None
