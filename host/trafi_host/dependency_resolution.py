"""Which other modules an install needs: manifest `dependencies`, resolved before anything is written.

A depth-first walk from the module being installed: a dependency already
installed at a version in range is kept; otherwise it is fetched (by the
caller's `fetch`, from the configured registry) and walked in turn. Refused,
with the whole path spelled out: a cycle (`a -> b -> a`), two ranges no single
version meets, and an install that would move an installed module out of the
range another installed module needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import nodesemver

from .errors import ExitCode, TrafiError
from .manifest.model import Manifest

T = TypeVar("T")


class DependencyError(TrafiError):
    """A dependency cycle or conflict; nothing was installed."""

    exit_code = ExitCode.DEPENDENCY


@dataclass(frozen=True)
class Planned(Generic[T]):
    item: T
    manifest: Manifest
    chain: tuple[str, ...]  # who needed it: root -> ... -> this module


def _satisfies(version: str, wanted: str) -> bool:
    return bool(nodesemver.satisfies(version, wanted, False))


def resolve_dependencies(
    root: Manifest,
    installed: Mapping[str, Manifest],
    fetch: Callable[[str, str, tuple[str, ...]], tuple[T, Manifest]],
) -> list[Planned[T]]:
    """The modules to install with `root`, dependencies before their dependents (root not included).

    `installed` maps each installed module to its manifest; `fetch(name, range, chain)`
    returns the newest matching version from the registry (or raises).
    """
    planned: dict[str, Planned[T]] = {}
    order: list[str] = []
    needs: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    new_versions = {root.name: root.version}

    def conflict(name: str, version: str, wanted: str, chain: tuple[str, ...]) -> DependencyError:
        others = "; ".join(f"{' -> '.join(c)} needs {name} {r}" for r, c in needs.get(name, []) if c != chain)
        return DependencyError(
            f"dependency conflict: {' -> '.join(chain)} needs {name} {wanted}, "
            f"but {name} {version} is what the install would have" + (f" ({others})" if others else "")
        )

    def visit(manifest: Manifest, chain: tuple[str, ...]) -> None:
        for name, wanted in sorted(manifest.dependencies.items()):
            if name in chain:
                raise DependencyError(f"dependency cycle: {' -> '.join((*chain, name))}")
            if name in new_versions:
                if not _satisfies(new_versions[name], wanted):
                    raise conflict(name, new_versions[name], wanted, chain)
                needs.setdefault(name, []).append((wanted, chain))
                continue
            current = installed.get(name)
            if current is not None and _satisfies(current.version, wanted):
                needs.setdefault(name, []).append((wanted, chain))
                continue
            item, fetched = fetch(name, wanted, chain)
            if fetched.name != name:
                raise DependencyError(
                    f"{' -> '.join(chain)} needs {name} {wanted}, but the package found is module "
                    f"{fetched.name!r}"
                )
            for earlier, earlier_chain in needs.get(name, []):
                if not _satisfies(fetched.version, earlier):
                    raise conflict(name, fetched.version, earlier, earlier_chain)
            needs.setdefault(name, []).append((wanted, chain))
            new_versions[name] = fetched.version
            planned[name] = Planned(item, fetched, (*chain, name))
            visit(fetched, (*chain, name))
            order.append(name)

    visit(root, (root.name,))
    # Installed modules that stay must still find what they need.
    for name, manifest in sorted(installed.items()):
        if name in new_versions:
            continue
        for dependency, wanted in sorted(manifest.dependencies.items()):
            version = new_versions.get(dependency)
            if version is not None and not _satisfies(version, wanted):
                why = planned[dependency].chain if dependency in planned else (root.name,)
                raise DependencyError(
                    f"dependency conflict: installed {name} {manifest.version} needs {dependency} {wanted}, "
                    f"but installing {' -> '.join(why)} would bring {dependency} {version}"
                )
    return [planned[name] for name in order]
