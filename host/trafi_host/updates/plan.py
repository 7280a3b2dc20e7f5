"""What an update changes, and which of those changes can break a store that relies on the module.

Computed from the installed version and the staged one before anything is
committed, so the operator confirms (or a script passes `--yes`) knowing:

- breaking: a new major version (for 0.x, a new minor: semver's rule), a new
  major WIT world, services the module no longer offers (other modules call
  them), events it no longer handles, new permissions (granted with `--grant`),
  migrations it reverts (a downgrade: their data goes);
- informational: config keys migrated, migrations it adds.

Routes are not in the list yet: a module does not declare its routes until the
routes export of the module APIs work lands (docs/updating.md says so).

Installed modules that depend on this one must still accept the new version
(their `dependencies` range): the install's dependency resolution refuses it
otherwise, naming them (exit code 15).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import semver

from ..manifest.model import Manifest

ChangeKind = Literal[
    "major-version", "wit-world", "services", "events", "permissions", "migrations", "config", "downgrade"
]


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    breaking: bool
    detail: str


@dataclass
class UpdatePlan:
    name: str
    from_version: str
    to_version: str
    from_digest: str
    to_digest: str
    source: str
    changes: list[Change] = field(default_factory=list)
    quarantined: str | None = None  # the installed version's quarantine reason, if any

    @property
    def breaking(self) -> list[Change]:
        return [change for change in self.changes if change.breaking]

    @property
    def downgrade(self) -> bool:
        return semver.Version.parse(self.to_version) < semver.Version.parse(self.from_version)


def breaking_bump(before: str, after: str) -> bool:
    """Whether `before` -> `after` is a breaking version step: a new major, or a new minor in 0.x."""
    old, new = semver.Version.parse(before), semver.Version.parse(after)
    if new <= old:
        return False
    if old.major == 0 and new.major == 0:
        return new.minor != old.minor
    return new.major != old.major


def version_changes(old: Manifest, new: Manifest) -> list[Change]:
    changes: list[Change] = []
    if breaking_bump(old.version, new.version):
        changes.append(
            Change("major-version", True, f"{old.version} -> {new.version} is a major version step")
        )
    if semver.Version.parse(new.version) < semver.Version.parse(old.version):
        changes.append(Change("downgrade", True, f"{old.version} -> {new.version} is a downgrade"))
    old_world, new_world = semver.Version.parse(old.wit_version), semver.Version.parse(new.wit_version)
    if new_world.major != old_world.major:
        changes.append(
            Change("wit-world", True, f"WIT world {old.wit_version} -> {new.wit_version} (a new major)")
        )
    elif new_world != old_world:
        changes.append(Change("wit-world", False, f"WIT world {old.wit_version} -> {new.wit_version}"))
    gone_events = sorted({s.event for s in old.events} - {s.event for s in new.events})
    if gone_events:
        changes.append(Change("events", True, f"no longer handles {', '.join(gone_events)}"))
    return changes


def service_changes(old: tuple[str, ...], new: tuple[str, ...]) -> list[Change]:
    gone = sorted(set(old) - set(new))
    if not gone:
        return []
    return [Change("services", True, f"no longer offers the service(s) {', '.join(gone)}")]


def permission_changes(widened: dict[str, str]) -> list[Change]:
    return [Change("permissions", True, f"new permission {item} ({why})") for item, why in widened.items()]


def config_changes(described: list[str]) -> list[Change]:
    return [Change("config", False, line) for line in described]


def migration_changes(adds: list[str], reverts: list[str]) -> list[Change]:
    changes = [Change("migrations", False, f"applies migration {m}") for m in adds]
    changes += [Change("migrations", True, f"reverts migration {m} (its tables' data goes)") for m in reverts]
    return changes
