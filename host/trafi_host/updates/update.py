"""`trafi module update`: a newer (or a named) version of an installed module, from where it came.

The flow is the install's (fetch into staging, validate with security, compile,
trial-start, then a journaled commit that keeps the replaced version on disk)
with what an update adds before the commit:

- the source: the recorded one (`update_spec`): the same folder or .tgz path,
  the same git spec (its branch moves on; a tag or commit stays until `--to`),
  the same npm range; `--to` names another ref, version or path;
- refusals: a downgrade unless `--to` named it, a version a dependent does not
  accept, a config the new schema refuses;
- the plan (`updates/plan.py`): every change, breaking ones marked, shown to
  `confirm`, which may say no;
- after the commit: the health window (`updates/records.py`) that running
  hosts watch, and which rolls the update back if it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..audit_log import current_actor
from ..capabilities.kv.backend import MemoryKv
from ..capabilities.registry import host_capabilities
from ..db.engine import Database
from ..errors import ProjectError, TrafiError, UpdateRefused
from ..install import Installer, InstallResult, Staged
from ..lifecycle.module_state import project_module_states
from ..manifest.load import load_manifest
from ..manifest.model import Manifest
from ..module_data import project_runner, shipped_migrations
from ..project import ModuleEntry, Project
from ..sources.git import parse_git_spec
from ..sources.npm import parse_npm_spec
from .plan import (
    Change,
    UpdatePlan,
    config_changes,
    migration_changes,
    permission_changes,
    service_changes,
    version_changes,
)
from .records import UpdateRecords


class UpToDate(TrafiError):
    """The source holds the installed component already: nothing to do."""


@dataclass(frozen=True)
class UpdateOutcome:
    plan: UpdatePlan
    results: list[InstallResult]  # dependencies first, the module last; empty when up to date
    up_to_date: bool
    window_id: int | None  # the health window opened, None when the module is not running


def update_spec(name: str, entry: ModuleEntry, to: str | None) -> str:
    """Where an update of `name` fetches from: its recorded source, or `to` in its terms."""
    source = entry.source
    if source.kind == "path":
        if to is not None:
            return to  # a folder or .tgz: there is no "version" of a path but another path
        return source.resolved.split("#sha256=")[0]
    if source.kind == "git":
        spec = parse_git_spec(source.spec) or parse_git_spec(source.resolved)
        if spec is None:
            raise ProjectError(f"module {name}: cannot read its git source {source.spec!r}")
        if to is None:
            return source.spec
        location = source.spec.partition("#")[0]
        return f"{location}#{to}" + (f"&path:{spec.subdir}" if spec.subdir else "")
    npm = parse_npm_spec(source.spec)
    package = npm.name if npm is not None else source.resolved.rpartition("@")[0]
    if to is None:
        return source.spec
    return f"{package}@{to}"


class Updater:
    """One `trafi module update` of one module (`--all`: one Updater call per module)."""

    def __init__(
        self,
        project: Project,
        installer: Installer,
        database: Database,
        confirm: Callable[[UpdatePlan], bool],
    ) -> None:
        self.project = project
        self.installer = installer
        self.database = database
        self.confirm = confirm

    def update(self, name: str, to: str | None = None) -> UpdateOutcome:
        entry = self.project.module_entry(name)
        spec = update_spec(name, entry, to)
        self.installer.allow_downgrade = to is not None
        plans: list[UpdatePlan] = []
        windows: list[int] = []

        def review(staged: list[Staged]) -> None:
            self._review(name, staged[-1], spec, plans)
            # Opened before the commit: a host switching to the new version must find it.
            window = self._open_window(plans[-1], staged[-1])
            if window is not None:
                windows.append(window)

        records = UpdateRecords(self.database)
        try:
            results = self.installer.install(spec, review=review, expect_name=name, operation="update")
        except UpToDate:
            return UpdateOutcome(plans[-1], [], True, None)
        except BaseException as error:
            for window in windows:
                records.decide(window, "failed", f"the update did not commit: {error}", 0, 0)
            raise
        return UpdateOutcome(plans[-1], results, False, windows[-1] if windows else None)

    def _open_window(self, plan: UpdatePlan, staged: Staged) -> int | None:
        """The health window, when the module runs (a disabled module has no calls to judge)."""
        assert staged.previous is not None
        with project_module_states(self.project) as states:
            state = states.desired(plan.name, staged.previous, states.load())
        if not state.enabled:
            return None
        return UpdateRecords(self.database).open_window(
            plan.name,
            plan.from_version,
            plan.from_digest,
            plan.to_version,
            plan.to_digest,
            current_actor(self.project.settings.actor),
        )

    def _review(self, name: str, staged: Staged, spec: str, plans: list[UpdatePlan]) -> None:
        previous = staged.previous
        assert previous is not None  # an update replaces an installed module
        plan = UpdatePlan(
            name=name,
            from_version=previous.version,
            to_version=staged.manifest.version,
            from_digest=previous.digest,
            to_digest=staged.entry.digest,
            source=spec,
        )
        plans.append(plan)
        if staged.entry.digest == previous.digest and staged.manifest.version == previous.version:
            raise UpToDate(f"module {name} {previous.version} is up to date with {spec}")
        old_manifest = load_manifest(self.project.module_dir(name))
        plan.changes += version_changes(old_manifest, staged.manifest)
        plan.changes += service_changes(self._services(old_manifest, previous), staged.services)
        plan.changes += permission_changes(staged.widened)
        plan.changes += config_changes(staged.config_changes)
        plan.changes += self._migration_changes(name, staged)
        with project_module_states(self.project) as states:
            plan.quarantined = states.desired(name, previous, states.load()).quarantined
        if not self.confirm(plan):
            raise UpdateRefused(f"update of {name} to {plan.to_version} not confirmed; nothing changed")

    def _services(self, manifest: Manifest, entry: ModuleEntry) -> tuple[str, ...]:
        """The services the installed version offers (one trial start: its artifact is cached)."""
        runtime = self.installer.runtime
        try:
            image = runtime.load_image(manifest, self.project.module_dir(manifest.name), entry.config)
            return runtime.trial_start(image, host_capabilities(MemoryKv())).service_names
        except TrafiError:
            return ()  # a broken installed version offers nothing to lose

    def _migration_changes(self, name: str, staged: Staged) -> list[Change]:
        shipped = [m.id for m in shipped_migrations(staged.manifest, staged.folder)]
        with project_runner(self.project) as runner:
            applied = [a.id for a in runner.applied(name)]
        return migration_changes(
            [m for m in shipped if m not in applied], [m for m in applied if m not in shipped]
        )


__all__ = ["UpToDate", "UpdateOutcome", "Updater", "update_spec"]
