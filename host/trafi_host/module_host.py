"""The running set of modules: what the project config wants, loaded into the runtime.

`reconcile()` brings what is loaded to what should run: the modules installed
in `trafi.config.json` (version, digest, config), as decided by
`lifecycle.status` from the module state in the database (enabled, not
quarantined), their manifests and their dependencies, started in dependency
order. A module that cannot start is marked failed with its reason, its
dependents are skipped with theirs, and every other module goes on being
served. The API runs it at start and whenever the config file or the module
state changes, so enable and disable apply without a restart, in every host
process.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from sqlalchemy.exc import SQLAlchemyError

from .audit_log import AuditLog
from .auth.denials import DeniedRequests
from .auth.failed_attempts import FailedAttempts
from .auth.key_cache import VerifiedKeyCache
from .capabilities.db.host import ModuleDatabase
from .capabilities.db.migrations import MigrationRunner
from .capabilities.kv.backend import MemoryKv
from .capabilities.kv.sql_store import SqlKv
from .capabilities.metrics.otlp import OtlpMirror
from .capabilities.metrics.store import MetricsStore
from .capabilities.registry import host_capabilities
from .commerce.service import Commerce
from .db.engine import Database
from .db.schema import utcnow
from .delivery.dispatch import Dispatcher
from .delivery.jobs import JobQueue
from .errors import ComponentError, TrafiError
from .events.deliveries import Ledger
from .events.outbox import Event, OutboxSink
from .incidents import IncidentMonitor
from .lifecycle import ModuleStates, transitions
from .lifecycle.status import Decision, decide, failed
from .load_reports import LoadReport, LoadReports
from .manifest.load import load_manifest
from .manifest.model import Manifest
from .module_data import sync_migrations
from .module_routes.table import route_table
from .module_state_feed import ModuleStateFeed
from .project import ModuleEntry, Project
from .rate_limits import OverrideSnapshot, RatePolicy
from .recovery import recover_if_idle
from .runtime import ModuleImage, ModuleResponse, ModuleRuntime
from .runtime.artifacts import component_digest
from .updates.health_gate import HealthGate
from .updates.records import UpdateRecord, UpdateRecords
from .updates.rollback import roll_back_failed_update

log = logging.getLogger("trafi.host")


@dataclass
class LoadState:
    name: str
    version: str
    status: str  # loaded | disabled | failed | quarantined
    error: str | None = None
    load_ms: float | None = None
    compiled: bool = False
    # Under `trafi dev`: where the module's code failed (file, line, excerpt), for the HTTP body.
    problem: dict[str, object] | None = None


class ModuleHost:
    def __init__(self, project: Project, database: Database | None = None, *, dev: bool = False) -> None:
        self.project = project
        # Modules `trafi dev` serves from their source: reconcile leaves them to it.
        self.dev_modules: set[str] = set()
        # A command killed part-way is finished before anything is loaded (unless one is running).
        recover_if_idle(project)
        self.database = database or Database(project.database_url())
        self.database.migrate()
        self.audit = AuditLog(self.database)
        self.module_states = ModuleStates(self.database, project.redis_url())
        self.load_reports = LoadReports(self.database)
        settings = project.load_config().host
        self.ledger = Ledger(self.database, settings.event_retry_base_seconds)
        self.jobs = JobQueue(project.state_dir, project.redis_url(), project.settings.job_queue)
        # Committed core changes go to the dispatcher, which needs the runtime, whose
        # capabilities need the core: the core calls back through this host instead.
        self.commerce = Commerce(self.database, after_commit=self._publish_events)
        self.incidents = IncidentMonitor(
            self.audit, settings.incident_threshold, settings.incident_window_seconds, self.quarantine
        )
        self.images: dict[str, ModuleImage] = {}
        # The version an update replaced, kept loaded while the update's health window is open,
        # so that a failed window switches back at once (docs/updating.md).
        self.previous_images: dict[str, ModuleImage] = {}
        # Module -> the update this host switched back from, until its rollback has restored
        # the project: a reconcile in between must not switch to the failed version again.
        self._rolling_back: dict[str, UpdateRecord] = {}
        self.update_records = UpdateRecords(self.database)
        self.gate = HealthGate(self.update_records, on_fail=self._update_failed, on_pass=self._update_passed)
        self.kv = SqlKv(self.database)
        self.module_db = ModuleDatabase.on(self.database.engine)
        self.migrations = MigrationRunner(
            self.database.engine, on_schema_change=self.module_db.tables.invalidate
        )
        # Module metrics of this process, labelled with it (docs/metrics.md: several processes).
        endpoint = project.settings.otlp_metrics_endpoint
        self.otlp = (
            OtlpMirror(endpoint, self.load_reports.host, project.settings.otlp_export_interval_ms)
            if endpoint
            else None
        )
        self.metrics = MetricsStore(self.load_reports.host, self.otlp)
        self.runtime = ModuleRuntime(
            project.artifacts_dir,
            host_capabilities(
                self.kv, self.commerce, OutboxSink(self.database), self.module_db, metrics=self.metrics
            ),
            limits=project.host_limits(),
            on_incident=self.incidents.record,
            resolve_module=self.images.get,
            on_quarantine=self.incidents.quarantine_now,
            dev=dev,
            on_call=self._observe_call,
        )
        # A trial start before serving keeps nothing: in-memory kv, no events recorded.
        self.trial_capabilities = host_capabilities(MemoryKv(), self.commerce)
        self.dispatcher = Dispatcher(
            self.database,
            self.runtime,
            lambda: self.images,
            self.ledger,
            self.jobs,
            settings.sync_event_deadline_ms,
        )
        self.job_workers = project.job_workers()
        # Which rate limits apply; the counters live in the app's limiter (api/app.py).
        self.rate_policy = RatePolicy(OverrideSnapshot(self.database), settings.rate_limit)
        self.rate_policy.overrides.reload()
        self.key_cache = VerifiedKeyCache()
        self.state_feed = ModuleStateFeed()
        self.failed_attempts = FailedAttempts()
        self.denials = DeniedRequests(self.audit)
        self.states: dict[str, LoadState] = {}
        self.quarantines: dict[str, int] = {}  # module -> times this process took its quarantine
        self._reconciling = threading.Lock()
        self._reported = False

    def _publish_events(self, events: list[Event]) -> None:
        self.dispatcher.publish_events(events)

    def reconcile(self) -> list[str]:
        """Load what should run and is not, unload what runs and should not; returns what changed."""
        with self._reconciling:
            config = self.project.load_config()
            modules = {name: entry for name, entry in config.modules.items() if name not in self.dev_modules}
            self.rate_policy.host_default = config.host.rate_limit
            self.gate.refresh(config.updates)
            rows = self.module_states.load()
            desired = {name: self.module_states.desired(name, entry, rows) for name, entry in modules.items()}
            manifests = {
                name: self._manifest(name)
                for name, state in desired.items()
                if state.enabled and not state.quarantined
            }
            changed: list[str] = []
            # Removed: every trace goes, whether it ran, was disabled or quarantined (a name
            # left in `states` would stay in /health and answer 503 instead of 404).
            for name in (set(self.images) | set(self.states)) - set(modules) - self.dev_modules:
                stopped = self._stop(name, None)
                changed += stopped or [name]
                self.runtime.unload(name)
                self.incidents.forget(name)
                self.metrics.forget(name)  # its series go with it

            decide(
                {name: entry.version for name, entry in modules.items()},
                desired,
                manifests,
                apply=lambda name, decision: self._apply(
                    name, decision, modules[name], manifests.get(name), changed
                ),
            )
            if changed or not self._reported:
                self._report_loads()
            self._announce(changed)
            return changed

    def _announce(self, changed: list[str]) -> None:
        """Each changed module's state now, to the dashboard's live feed."""
        for name in dict.fromkeys(changed):
            state = self.states.get(name)
            if state is None:
                self.state_feed.publish(name, "removed", None)
            else:
                status = "enabled" if state.status == "loaded" else state.status
                self.state_feed.publish(name, status, state.version)

    def _apply(
        self,
        name: str,
        decision: Decision,
        entry: ModuleEntry,
        manifest: Manifest | str | None,
        changed: list[str],
    ) -> Decision:
        """Carry out one decision: stop what should not run, start what should and does not yet."""
        previous = self.states.get(name)
        if previous is not None and previous.status == "quarantined" and decision.status != "quarantined":
            # Lifted (`trafi module enable`, from any process): its incidents count from zero,
            # so that misbehaving again quarantines it again.
            self.incidents.forget(name)
        if not decision.runs:
            if decision.status == "failed" and (previous is None or previous.error != decision.reason):
                log.error("module_failed module=%s reason=%s", name, decision.reason)
            changed += self._stop(name, LoadState(name, entry.version, decision.status, decision.reason))
            return decision
        assert isinstance(manifest, Manifest)  # `decide` runs only modules whose manifest it read
        current = self.images.get(name)
        if current is not None and (
            _same_load(current, entry) or self._failed_update_held(name, entry, current)
        ):
            return decision
        changed.append(name)
        if current is None:
            problem = self._start(name, entry, manifest)
            return decision if problem is None else failed(problem)
        return self._swap(name, decision, entry, manifest, current)

    def _swap(
        self, name: str, decision: Decision, entry: ModuleEntry, manifest: Manifest, current: ModuleImage
    ) -> Decision:
        """A new version of a running module: loaded and trial-started while the old one serves,
        then switched in with one assignment; calls in flight on the old one finish on it.

        If the new version cannot start, the old one goes on serving (an update's health window
        fails at once and rolls the update back)."""
        problem = self._start(name, entry, manifest, replacing=current)
        if problem is not None:
            self.images[name] = current
            self.states[name] = LoadState(
                name,
                current.version,
                "loaded",
                f"version {entry.version} failed to start, {current.version} serves on: {problem}",
            )
            if self.gate.start(name, entry.digest):
                self.gate.fail(name, f"version {entry.version} failed to start: {problem}")
            return decision
        if self.gate.start(name, entry.digest):
            self.previous_images[name] = current
        self.runtime.retire(current)
        log.info("module_swapped module=%s from=%s to=%s", name, current.version, entry.version)
        return decision

    # -- the update's health window (updates/health_gate.py) ----------------------------------

    def _observe_call(self, image: ModuleImage, response: ModuleResponse) -> None:
        if not self.gate.watching(image.name):
            return
        failure = response.failure
        if failure == "overload":
            return  # the host's, not the module's
        if failure is None and response.status >= 500:
            failure = f"status {response.status}"
        self.gate.observe(image.name, image.digest, failure)

    def _update_passed(self, record: UpdateRecord) -> None:
        self.previous_images.pop(record.module, None)

    def _failed_update_held(self, name: str, entry: ModuleEntry, current: ModuleImage) -> bool:
        """Whether the config still names an update that failed its window while the version it
        replaced serves here: that one serves on until the rollback restores the config (by this
        host, or by the host that failed the window)."""
        failed = self._rolling_back.get(name) or self.gate.failed_update(name)
        return (
            failed is not None and entry.digest == failed.to_digest and current.digest == failed.from_digest
        )

    def _update_failed(self, record: UpdateRecord, reason: str) -> None:
        """Switch back to the version the update replaced now (if this host still has it loaded),
        then roll the project back in a thread: down migrations, folder, config, audit, event."""
        name = record.module
        previous = self.previous_images.pop(name, None)
        current = self.images.get(name)
        if previous is not None and previous.digest == record.from_digest:
            self._rolling_back[name] = record
            self.runtime.pool.reopen(name, previous.load_id)
            self.images[name] = previous
            self.states[name] = LoadState(
                name, previous.version, "loaded", f"update to {record.to_version} failed: {reason}"
            )
            if current is not None:
                self.runtime.retire(current)
        threading.Thread(
            target=self._roll_back, args=(record, reason), name=f"trafi-rollback-{name}", daemon=True
        ).start()

    def _roll_back(self, record: UpdateRecord, reason: str) -> None:
        why = f"update to {record.to_version} failed its health window: {reason}"
        try:
            roll_back_failed_update(self.project, record, why, self.module_states)
        except Exception:
            log.exception("could not roll back module %s to %s", record.module, record.from_version)
        finally:
            self.incidents.forget(record.module)
            # A rollback that failed leaves its record `failed`: the gate holds the switch from it.
            self._rolling_back.pop(record.module, None)
            try:
                self.reconcile()
            except Exception:
                log.exception("reconcile after the rollback of %s failed", record.module)

    def _report_loads(self) -> None:
        try:
            self.load_reports.report(
                LoadReport(self.load_reports.host, s.name, s.version, s.status, s.error, s.load_ms, utcnow())
                for s in self.states.values()
            )
            self._reported = True
        except SQLAlchemyError as error:  # a report is for people; serving goes on without it
            log.warning("could not report module states to the database: %s", error)

    def _manifest(self, name: str) -> Manifest | str:
        """The installed module's manifest, or why it cannot be read."""
        try:
            return load_manifest(self.project.module_dir(name))
        except TrafiError as error:
            return str(error)

    def _start(
        self, name: str, entry: ModuleEntry, manifest: Manifest, replacing: ModuleImage | None = None
    ) -> str | None:
        """Start serving `name`; returns why it could not. `replacing`: the load it replaces, whose
        tenants get a warm instance of the new one before the switch (no cold start after it)."""
        started = time.perf_counter()
        compiles_before = self.runtime.artifacts.compiles
        try:
            folder = self.project.module_dir(name)
            self._check_installed_component(name, folder / manifest.entry.backend, entry)
            # Normally done by the install; a module placed by other means gets its tables here.
            sync_migrations(self.migrations, manifest, folder)
            image = self.runtime.load_image(
                manifest,
                self.project.module_dir(name),
                entry.config,
                entry.env,
                self.project.data_dir,
                entry.granted,
            )
            artifact_ms = (time.perf_counter() - started) * 1000
            # One instance started and dropped: a module whose init fails or traps
            # is marked failed now, not on its first request.
            image = image.offering(self.runtime.trial_start(image, self.trial_capabilities))
            # Routes a request could not be told apart by: the load fails, naming both.
            route_table(image.load_id, name, image.declarations.routes)
        except TrafiError as error:
            self.states[name] = LoadState(name, entry.version, "failed", str(error))
            log.error("module_failed module=%s reason=%s", name, error)
            return str(error)
        self.runtime.pool.reopen(name, image.load_id)
        if replacing is not None:
            self.runtime.warm(image, self.runtime.pool.tenants_of(name, replacing.load_id))
        self.images[name] = image
        state = LoadState(
            name,
            manifest.version,
            "loaded",
            load_ms=round((time.perf_counter() - started) * 1000, 2),
            compiled=self.runtime.artifacts.compiles > compiles_before,
        )
        self.states[name] = state
        log.info(
            "module_loaded module=%s version=%s load_ms=%.2f artifact_ms=%.2f init_ms=%.2f compiled=%s",
            name,
            manifest.version,
            state.load_ms,
            artifact_ms,
            (state.load_ms or 0) - artifact_ms,
            state.compiled,
        )
        return None

    @staticmethod
    def _check_installed_component(name: str, component: Path, entry: ModuleEntry) -> None:
        """The component on disk must be the one installed: a file copied over it (another
        module's, a tampered one) is refused before any of it is compiled or run."""
        if not entry.digest or not component.is_file():
            return  # no record to compare (an old config) / load_image names the missing file
        found = component_digest(component)
        if found != entry.digest:
            raise ComponentError(
                f"module {name}: {component.name} is not the installed component "
                f"(sha256 {found[:12]}…, installed {entry.digest[:12]}…); reinstall it with "
                f"`trafi module add` or `trafi module install`"
            )

    def _stop(self, name: str, state: LoadState | None) -> list[str]:
        """Stop serving `name` (in-flight calls finish; their instances are dropped after)."""
        # The new state first: a request between the two steps must not see a
        # "loaded" module without its image.
        if state is None:
            self.states.pop(name, None)
        else:
            self.states[name] = state
        was_loaded = self.images.pop(name, None) is not None
        if was_loaded:
            self.runtime.unload(name)
            log.info("module_unloaded module=%s", name)
        return [name] if was_loaded else []

    def quarantine(self, name: str, reason: str) -> None:
        """Stop serving a module (the rest of the host goes on) and persist why.

        During an update's health window the update is rolled back instead: the version
        before it served every tenant, the new one is what misbehaves."""
        if self.gate.fail(name, f"quarantined: {reason}"):
            return
        version = self.states[name].version if name in self.states else "?"
        self._stop(name, LoadState(name, version, "quarantined", reason))
        # The database only: hosts never write the config (commands mirror it, under the project lock).
        # Another process may have quarantined it first (its own incidents counted with ours):
        # then this one stops serving it as well, and the quarantine is that process's.
        if transitions.quarantine(
            self.project, name, reason, self.module_states, actor="host", mirror_config=False
        ):
            self.quarantines[name] = self.quarantines.get(name, 0) + 1
        self._report_loads()
        self._announce([name])

    def close(self) -> None:
        try:
            self.load_reports.withdraw()
        except SQLAlchemyError as error:
            log.warning("could not withdraw this host's module reports: %s", error)
        self.runtime.close()
        if self.otlp is not None:
            self.otlp.close()
        self.database.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _same_load(image: ModuleImage, entry: ModuleEntry) -> bool:
    """Whether the running load is what the config entry asks for: same component and version,
    same settings and grants (a change of any is a swap to a new load)."""
    return (
        image.digest == entry.digest
        and image.version == entry.version
        and dict(image.config) == entry.config
        and dict(image.env) == entry.env
        and image.granted == entry.granted
    )
