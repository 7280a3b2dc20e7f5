"""Which installed modules a removal takes with it: every module that depends on it, directly or not."""

from __future__ import annotations

from ..errors import TrafiError
from ..manifest.load import load_manifest
from ..project import Project


def removal_order(project: Project, name: str) -> list[str]:
    """`name`'s dependents, each before what it depends on, then `name` (removed in this order)."""
    needs: dict[str, set[str]] = {}
    for other in project.load_config().modules:
        try:
            needs[other] = set(load_manifest(project.module_dir(other)).dependencies)
        except TrafiError:
            needs[other] = set()  # an unreadable module depends on nothing we can see
    order: list[str] = []

    def visit(module: str, path: tuple[str, ...]) -> None:
        if module in order or module in path:
            return
        for dependent in sorted(m for m, deps in needs.items() if module in deps):
            visit(dependent, (*path, module))
        order.append(module)

    visit(name, ())
    return order
