"""Installing modules: fetch, resolve dependencies, stage, validate, compile, trial-start, then commit.

Nothing touches the project until every module of the install (the one asked
for and the dependencies it brings) has passed every check on its staged copy.
The commit is journaled (`project/journal.py`): migrations, then each staged
folder into place (the old one kept aside), then the config and lock once. If
a step fails, every step done so far is undone, so the project is as it was;
if the process dies once the journal is written, the next command or host
start finishes the install (`finish_install`, run again by `recovery`). The
whole install holds the project lock, so no other command changes the
project in between.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import semver

from .audit_log import AuditLog
from .build import build_module
from .capabilities.kv.backend import MemoryKv
from .capabilities.registry import host_capabilities
from .compatibility import require_compatible
from .dependency_resolution import resolve_dependencies
from .errors import ComponentError, ProjectError, TrafiError, UpdateRefused
from .manifest.config_schema import ConfigMigration, config_problems, migrate_config
from .manifest.load import load_manifest
from .manifest.model import Manifest
from .module_data import MigrationRun, project_runner, sync_migrations
from .module_routes.declared_checks import declared_route_findings
from .module_source_digest import locked_digest_mismatch, module_source_digest
from .permissions import PermissionEscalation, escalation, permission_items
from .project import ModuleEntry, Project, ProjectConfig
from .project.config import AllowedRule, ModuleSource
from .project.journal import FolderMove, Journal, kill_point, move_back, move_into_place, new_journal_id
from .project.versions import discard_kept, keep_version, prune_versions
from .runtime import ModuleRuntime
from .runtime.artifacts import ArtifactCache, component_digest
from .runtime.declarations import NOTHING_DECLARED, Declarations
from .sources.fetch import FetchedModule, PathSpec, SourceSpec, fetch_source, parse_source
from .sources.git import parse_git_spec
from .sources.npm import NpmSpec, RegistryConfig, parse_npm_spec
from .validation.findings import Override, ValidationReport
from .validation.validate import ValidationFailed, check_overrides, validate_module

log = logging.getLogger("trafi.install")

# The audit action of a module replaced by each journaled operation.
AUDIT_ACTIONS = {"install": "installed", "update": "updated", "rollback": "rolled-back"}

# Build output and caches are not part of an installed module.
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".venv", "node_modules", ".trafi")


@dataclass(frozen=True)
class InstallResult:
    manifest: Manifest
    entry: ModuleEntry
    replaced: str | None  # the version that was installed before, if any
    report: ValidationReport
    dependency_of: str | None = None  # set when installed because another module needs it


@dataclass
class Staged:
    manifest: Manifest
    folder: Path
    entry: ModuleEntry
    previous: ModuleEntry | None
    report: ValidationReport
    widened: dict[str, str]
    overrides: list[Override] = field(default_factory=list)
    dependency_of: str | None = None
    config_changes: list[str] = field(default_factory=list)  # how the kept config was migrated
    services: tuple[str, ...] = ()  # offered, read by the trial start
    # Routes and views it declares (world 0.3.0+), read by the trial start.
    declarations: Declarations = NOTHING_DECLARED


class Installer:
    """One `trafi module add` or `trafi module install`: shared runtime, registries, scratch space."""

    def __init__(
        self,
        project: Project,
        runtime: ModuleRuntime,
        *,
        audit: AuditLog | None = None,
        registries: RegistryConfig | None = None,
        progress: Callable[[str], None] | None = None,
        build: bool = False,
        grant_new_permissions: bool = False,
        base: Path | None = None,
    ) -> None:
        self.project = project
        self.runtime = runtime
        self.audit = audit
        self.registries = registries or RegistryConfig.load(project.root, project.settings)
        self.progress = progress or (lambda _message: None)
        self.build = build
        self.grant_new_permissions = grant_new_permissions
        self.base = base  # relative paths are relative to this (default: the current folder)
        self.allow_downgrade = False  # `update --to` named the version: it may be older
        self._scratch: Path | None = None
        self._fetches = 0

    def install(
        self,
        spec: str,
        overrides: list[Override] | None = None,
        with_dependencies: bool = True,
        *,
        review: Callable[[list[Staged]], None] | None = None,
        expect_name: str | None = None,
        operation: str = "install",
    ) -> list[InstallResult]:
        """Install `spec` and whatever it needs; returns dependencies first, the module asked for last.

        `review` sees every staged module before anything is committed and may refuse (raise):
        an update's confirmation. `expect_name`: the source must hold that module (an update)."""
        with self.project.exclusive(), self._scratch_space():
            config = self.project.load_config()
            root = self._fetch(parse_source(spec, self.base))
            manifest = load_manifest(root.folder)
            if expect_name is not None and manifest.name != expect_name:
                raise UpdateRefused(
                    f"{spec} holds module {manifest.name!r}, not {expect_name!r}: an update keeps the name"
                )
            plan: list[tuple[FetchedModule, str | None]] = []
            if with_dependencies:
                installed = self._installed_manifests(config, replacing=manifest.name)
                for planned in resolve_dependencies(manifest, installed, self._fetch_dependency):
                    plan.append((planned.item, " -> ".join(planned.chain[:-1])))
            plan.append((root, None))
            staged = [
                self._stage(fetched, config, overrides if dependency_of is None else None, dependency_of)
                for fetched, dependency_of in plan
            ]
            if review is not None:
                review(staged)
            self._commit(staged, config, operation)
            return self._finish(staged)

    def install_locked(self) -> list[InstallResult]:
        """Make the installed modules exactly those of `trafi.lock.json`; skips what already matches."""
        with self.project.exclusive(), self._scratch_space():
            lock = self.project.load_lock()
            config = self.project.load_config()
            staged: list[Staged] = []
            for name, locked in sorted(lock.modules.items()):
                if self._installed_digest(name) == locked.digest and name in config.modules:
                    continue
                fetched = self._fetch(
                    _locked_spec(name, locked.source), integrity=locked.source.integrity, spec=locked.source
                )
                one = self._stage(fetched, config, None, None)
                if one.manifest.name != name:
                    raise TrafiError(f"trafi.lock.json: {name} resolves to module {one.manifest.name!r}")
                if one.entry.digest != locked.digest:
                    raise TrafiError(locked_digest_mismatch(name, locked, one.entry))
                staged.append(one)
            self._commit(staged, config)
            return self._finish(staged)

    # -- fetching ------------------------------------------------------------------------------

    @contextmanager
    def _scratch_space(self) -> Iterator[Path]:
        """A scratch folder under staging for one install, always removed."""
        self.project.staging_dir.mkdir(parents=True, exist_ok=True)
        self._scratch = self.project.staging_dir / f"install-{uuid.uuid4().hex[:8]}"
        self._scratch.mkdir()
        try:
            yield self._scratch
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _fetch(
        self, parsed: SourceSpec, integrity: str | None = None, spec: ModuleSource | None = None
    ) -> FetchedModule:
        assert self._scratch is not None
        self._fetches += 1
        fetched = fetch_source(
            parsed,
            self._scratch / f"source-{self._fetches}",
            self.registries,
            integrity=integrity,
            progress=self.progress,
        )
        if spec is not None:  # from the lock: keep what the user typed originally
            fetched = FetchedModule(fetched.folder, fetched.source.model_copy(update={"spec": spec.spec}))
        return fetched

    def _fetch_dependency(
        self, name: str, wanted: str, chain: tuple[str, ...]
    ) -> tuple[FetchedModule, Manifest]:
        try:
            fetched = self._fetch(NpmSpec(name=name, range=wanted, spec=f"{name}@{wanted}"))
            return fetched, load_manifest(fetched.folder)
        except TrafiError as error:
            # Which install needed it, then why it failed; the exit code stays the cause's.
            wrapped = TrafiError(f"{' -> '.join(chain)} needs {name} {wanted}: {error}")
            wrapped.exit_code = error.exit_code
            raise wrapped from None

    def _installed_manifests(self, config: ProjectConfig, replacing: str) -> dict[str, Manifest]:
        manifests: dict[str, Manifest] = {}
        for name in config.modules:
            if name == replacing:
                continue
            try:
                manifests[name] = load_manifest(self.project.module_dir(name))
            except TrafiError:
                continue  # a broken installed module needs nothing we could check
        return manifests

    def _installed_digest(self, name: str) -> str | None:
        folder = self.project.module_dir(name)
        try:
            component = folder / load_manifest(folder).entry.backend
            return component_digest(component) if component.is_file() else None
        except TrafiError:
            return None

    # -- staging and commit ----------------------------------------------------------------------

    def _stage(
        self,
        fetched: FetchedModule,
        config: ProjectConfig,
        overrides: list[Override] | None,
        dependency_of: str | None,
    ) -> Staged:
        assert self._scratch is not None
        manifest = load_manifest(fetched.folder)
        staged = self._scratch / f"staged-{manifest.name}"
        shutil.copytree(fetched.folder, staged, ignore=_IGNORED, symlinks=True)
        source_digest = module_source_digest(staged, manifest)
        if self.build:
            # Built in staging: the user's folder (or the package) is never written.
            self.progress(f"building {manifest.name}")
            build_module(staged, wit_root=self.project.settings.wit_dir)
        elif not (staged / manifest.entry.backend).is_file():
            raise ComponentError(
                f"module {manifest.name}: entry.backend {manifest.entry.backend} is not in "
                f"{fetched.source.spec}; add with --build to build it from the module's source"
            )
        manifest = load_manifest(staged)
        require_compatible(manifest)
        previous = config.modules.get(manifest.name)
        if previous is not None:
            self._refuse_downgrade(manifest, previous)
        widened: dict[str, str] = {}
        if previous is not None and previous.granted is not None:
            widened = escalation(manifest.permissions, previous.granted)
            if widened and not self.grant_new_permissions:
                listing = "\n".join(f"  + {item}  ({reason})" for item, reason in widened.items())
                raise PermissionEscalation(
                    f"module {manifest.name} {manifest.version} asks for permissions not granted to "
                    f"{previous.version}:\n{listing}\nreview them, then add again with --grant"
                )
        # Overrides given now, plus those an operator gave for earlier versions.
        accepted = check_overrides(
            [*(overrides or []), *(Override(rule=a.rule, reason=a.reason) for a in previous.allowed_rules)]
            if previous
            else (overrides or [])
        )
        # Security validation on the staged copy, before any of its code runs.
        self.progress(f"validating {manifest.name} {manifest.version}")
        report = validate_module(staged, self.runtime.artifacts, accepted, self.project.advisory_sources())
        if not report.passed:
            raise ValidationFailed(report)
        # Compile (cached by digest) and start once against throwaway state:
        # a component that is not for our world, or that fails in init, stops here.
        config_now = self._migrated_config(manifest, previous)
        self.progress(f"compiling {manifest.name}")
        image = self.runtime.load_image(manifest, staged, config_now.config)
        offer = self.runtime.trial_start(image, host_capabilities(MemoryKv()))
        # Routes a request could not be told apart by refuse the install; an `apiVersions` entry
        # for a version without routes is a warning the operator hears of.
        report = report.model_copy(
            update={"findings": [*report.findings, *declared_route_findings(manifest, offer.declarations)]}
        )
        entry = ModuleEntry(
            version=manifest.version,
            enabled=previous.enabled if previous else True,
            source=fetched.source,
            digest=image.digest,
            source_digest=source_digest,
            config=config_now.config,
            env=previous.env if previous else {},
            allowed_rules=_dedupe([AllowedRule(rule=o.rule, reason=o.reason) for o in accepted]),
            granted=manifest.permissions,
        )
        return Staged(
            manifest,
            staged,
            entry,
            previous,
            report,
            widened,
            overrides or [],
            dependency_of,
            config_now.describe(),
            offer.service_names,
            offer.declarations,
        )

    def _refuse_downgrade(self, manifest: Manifest, previous: ModuleEntry) -> None:
        """An older version replaces a newer one only when asked for by name (`update --to`)."""
        if self.allow_downgrade:
            return
        if semver.Version.parse(manifest.version) < semver.Version.parse(previous.version):
            raise UpdateRefused(
                f"module {manifest.name}: {manifest.version} is older than the installed "
                f"{previous.version}; to downgrade, name it: `trafi module update {manifest.name} "
                f"--to {manifest.version}` (or roll back: `trafi module rollback {manifest.name}`)"
            )

    @staticmethod
    def _migrated_config(manifest: Manifest, previous: ModuleEntry | None) -> ConfigMigration:
        """The config the new version runs with: the previous one migrated to its schema (renames,
        defaults); an update whose kept config the new schema refuses is refused, naming the keys."""
        migration = migrate_config(previous.config if previous else {}, manifest.config_schema)
        problems = config_problems(migration.config, manifest.config_schema)
        if problems and previous is not None:
            raise UpdateRefused(
                f"module {manifest.name} {manifest.version}: the config kept from {previous.version} "
                f"does not fit its configSchema: {'; '.join(problems)}; change it first with "
                f"`trafi module config {manifest.name} KEY VALUE`"
            )
        if problems:
            log.warning("module %s: its config needs setting: %s", manifest.name, "; ".join(problems))
        return migration

    def _commit(self, staged: list[Staged], config: ProjectConfig, operation: str = "install") -> None:
        """Journaled (`project/journal.py`): migrations, then the folders, then the config and lock.

        An error undoes the steps done so far, so the project is as it was; a process killed
        after the journal is written is finished by the next command (`recovery`)."""
        kill_point(operation, "staged")
        if not staged:
            return
        journal_id = new_journal_id()
        for one in staged:
            config.modules[one.manifest.name] = one.entry
        journal = Journal.begin(
            self.project,
            operation,
            config_after=config,
            folders=[
                FolderMove(
                    module=one.manifest.name,
                    target=self._relative(self.project.module_dir(one.manifest.name)),
                    staged=self._relative(one.folder),
                    aside=self._relative(
                        self.project.module_dir(one.manifest.name).with_name(
                            f".{one.manifest.name}.old-{journal_id}"
                        )
                    ),
                    migrate=_has_data(one),
                    keep=one.previous is not None,
                )
                for one in staged
            ],
            journal_id=journal_id,
        )
        runs: list[MigrationRun] = []
        try:
            finish_install(
                self.project, journal, progress=self.progress, runs=runs, audit=self._audit(staged, operation)
            )
        except BaseException:
            undo_install(journal, runs)
            raise

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.project.root).as_posix()

    def _audit(self, staged: list[Staged], operation: str) -> Callable[[], None]:
        def record() -> None:
            for one in staged:
                log.info(
                    "installed %s %s from %s", one.manifest.name, one.manifest.version, one.entry.source.spec
                )
                if self.audit is not None:
                    _audit_install(self.audit, one, operation)

        return record

    def _finish(self, staged: list[Staged]) -> list[InstallResult]:
        return [
            InstallResult(
                one.manifest,
                one.entry,
                one.previous.version if one.previous else None,
                one.report,
                one.dependency_of,
            )
            for one in staged
        ]


def _has_data(one: Staged) -> bool:
    """Migrations to run: the new version ships some, or the one it replaces had tables."""
    previous_db = one.previous is not None and getattr(one.previous.granted, "db", None) is not None
    return previous_db or (one.folder / one.manifest.migrations).is_dir()


def finish_install(
    project: Project,
    journal: Journal,
    *,
    progress: Callable[[str], None] | None = None,
    runs: list[MigrationRun] | None = None,
    audit: Callable[[], None] | None = None,
) -> None:
    """The install's commit, each step skipped once the journal says it is done; every step
    may run again, so recovery finishes an interrupted install by calling this again.

    1. `migrated`: each module's tables to what its staged (or, once moved, installed)
       folder ships; done again, a sync finds nothing to do;
    2. `moved`: each staged folder into place, the old one aside;
    3. `config`: the config and lock as the install leaves them;
    4. `audited`: the audit log (`audit`; recovery records a shorter entry);
    5. `cleaned`: the old folders deleted; then the journal goes.
    """
    say = progress or (lambda _message: None)
    record = journal.record
    if journal.needs("migrated"):
        migrating = [move for move in record.folders if move.migrate]
        if migrating:
            with project_runner(project) as runner:
                for move in migrating:
                    staged = journal.path(move.staged or move.target)
                    folder = staged if staged.exists() else journal.path(move.target)
                    say(f"migrating {move.module}")
                    run = sync_migrations(runner, load_manifest(folder), folder)
                    if runs is not None:
                        runs.append(run)
                    journal.note_migrated(move.module, [f"{s.direction} {s.id}" for s in run.steps])
        journal.mark("migrated")
    if journal.needs("moved"):
        for move in record.folders:
            assert move.staged is not None
            move_into_place(journal.path(move.staged), journal.path(move.target), journal.path(move.aside))
            kill_point(record.operation, f"moved-{move.module}")
        journal.mark("moved")
    if journal.needs("config"):
        journal.write_config()
    if journal.needs("audited"):
        if audit is not None:
            audit()
        journal.mark("audited")
    if journal.needs("cleaned"):
        # A replaced version is kept for `trafi module rollback`, the oldest beyond the limit go.
        before = ProjectConfig.model_validate_json(record.config_before)
        after = ProjectConfig.model_validate_json(record.config_after)
        for move in record.folders:
            replaced = before.modules.get(move.module)
            if move.keep and replaced is not None and project.load_config().updates.keep_versions > 0:
                keep_version(project, move.module, journal.path(move.aside), replaced)
                prune_versions(project, move.module, project.load_config().updates.keep_versions)
            else:
                shutil.rmtree(journal.path(move.aside), ignore_errors=True)
            # The version now installed is no longer a "previous" one (a rollback installed it).
            discard_kept(project, move.module, after.modules[move.module])
        journal.mark("cleaned")
    journal.end()


def undo_install(journal: Journal, runs: list[MigrationRun]) -> None:
    """An install that failed part-way: tables, folders, config and lock back as they were.

    `runs`: the migrations this process ran (recovery of a failed install has none; a
    migration it leaves applied is listed by `trafi module migrations`)."""
    journal.start_undoing()
    for run in reversed(runs):
        run.undo()
    for move in reversed(journal.record.folders):
        assert move.staged is not None
        move_back(journal.path(move.staged), journal.path(move.target), journal.path(move.aside))
    if not journal.needs("config"):
        journal.restore_config()
    journal.end()


def recorded_install_audit(project: Project, journal: Journal, audit: AuditLog) -> Callable[[], None]:
    """The audit entries of an install finished by recovery: what the journal knows."""

    def record() -> None:
        after = ProjectConfig.model_validate_json(journal.record.config_after)
        for move in journal.record.folders:
            entry = after.modules[move.module]
            audit.record(
                move.module,
                AUDIT_ACTIONS.get(journal.record.operation, "installed"),
                detail=f"version {entry.version} from {entry.source.spec}; digest {entry.digest}; "
                f"finished by recovery after the installing command (pid {journal.record.pid}) "
                "was interrupted",
            )

    return record


def _locked_spec(name: str, source: ModuleSource) -> SourceSpec:
    resolved = source.resolved
    parsed: SourceSpec | None
    if source.kind == "git":
        parsed = parse_git_spec(resolved)
    elif source.kind == "npm":
        parsed = parse_npm_spec(resolved)
    else:
        parsed = PathSpec(Path(resolved.split("#sha256=")[0]), source.spec)
    if parsed is None:
        raise ProjectError(f"trafi.lock.json: {name}: cannot read its resolved source {resolved!r}")
    return parsed


def _audit_install(audit: AuditLog, one: Staged, operation: str) -> None:
    name, version = one.manifest.name, one.manifest.version
    for override in one.overrides:
        used = any(f.allowed and f.rule == override.rule for f in one.report.findings)
        audit.record(
            name,
            "override-accepted",
            rule=override.rule,
            reason=override.reason,
            detail=f"version {version}; {'matched findings' if used else 'no finding matched'}",
        )
    if one.widened or one.previous is None:
        granted_items = one.widened or permission_items(one.manifest.permissions)
        audit.record(name, "permissions-granted", detail="; ".join(granted_items) or "none requested")
    why = f" (needed by {one.dependency_of})" if one.dependency_of else ""
    was = f" (was {one.previous.version}, digest {one.previous.digest})" if one.previous else ""
    audit.record(
        name,
        AUDIT_ACTIONS[operation] if one.previous else "installed",
        detail=f"version {version} from {one.entry.source.spec}{why}; digest {one.entry.digest}{was}",
    )


def install_from_path(
    project: Project,
    source: Path,
    runtime: ModuleRuntime,
    overrides: list[Override] | None = None,
    audit: AuditLog | None = None,
    grant_new_permissions: bool = False,
) -> InstallResult:
    """One local folder or .tgz, without dependency resolution (tests, `trafi dev`, benchmarks)."""
    installer = Installer(project, runtime, audit=audit, grant_new_permissions=grant_new_permissions)
    return installer.install(str(source.resolve()), overrides, with_dependencies=False)[-1]


def _dedupe(rules: list[AllowedRule]) -> list[AllowedRule]:
    seen: dict[str, AllowedRule] = {}
    for rule in rules:
        seen.setdefault(rule.rule, rule)
    return list(seen.values())


def revalidate(project: Project, name: str, artifacts: ArtifactCache) -> ValidationReport:
    """Validation of the installed copy, with the overrides recorded for it."""
    entry = project.module_entry(name)
    overrides = [Override(rule=a.rule, reason=a.reason) for a in entry.allowed_rules]
    return validate_module(project.module_dir(name), artifacts, overrides, project.advisory_sources())
