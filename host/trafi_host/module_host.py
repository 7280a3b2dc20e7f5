"""The running set of modules: what the project config wants, loaded into the runtime.

`reconcile()` brings what is loaded to what should run: the modules installed
in `trafi.config.json` (version, digest, config), enabled and not quarantined
according to the database (`module_state`), started in dependency order. A
module that cannot start is marked failed with its reason, its dependents are
skipped with theirs, and every other module goes on being served. The API runs
it at start and whenever the config file or the module state changes, so
enable and disable apply without a restart, in every host process.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from typing import Self

from sqlalchemy.exc import SQLAlchemyError

from .audit_log import AuditLog
from .auth.key_cache import VerifiedKeyCache
from .capabilities.kv.backend import MemoryKv
from .capabilities.kv.sql_store import SqlKv
from .commerce.service import Commerce
from .compatibility import compatibility_problem
from .db.engine import Database
from .db.schema import utcnow
from .errors import TrafiError
from .events.deliveries import Ledger
from .events.dispatch import Dispatcher
from .events.jobs import JobQueue
from .events.outbox import OutboxSink
from .incidents import IncidentMonitor
from .load_reports import LoadReport, LoadReports
from .manifest import load_manifest
from .manifest.model import Manifest
from .module_state import ModuleStates
from .project import ModuleEntry, Project
from .runtime import ModuleImage, ModuleRuntime
from .start_order import dependency_problem, start_plan

log = logging.getLogger("trafi.host")


@dataclass
class LoadState:
    name: str
    version: str
    status: str  # loaded | disabled | failed | quarantined
    error: str | None = None
    load_ms: float | None = None
    compiled: bool = False


class ModuleHost:
    def __init__(self, project: Project, database: Database | None = None) -> None:
        self.project = project
        self.database = database or Database(project.database_url())
        self.database.migrate()
        self.audit = AuditLog(self.database)
        self.module_states = ModuleStates(self.database, project.redis_url())
        self.load_reports = LoadReports(self.database)
        settings = project.load_config().host
        self.ledger = Ledger(self.database, settings.event_retry_base_seconds)
        self.jobs = JobQueue(project.state_dir, project.redis_url(), project.settings.job_queue)
        self.commerce = Commerce(self.database)
        self.incidents = IncidentMonitor(
            self.audit, settings.incident_threshold, settings.incident_window_seconds, self.quarantine
        )
        self.runtime = ModuleRuntime(
            project.artifacts_dir,
            SqlKv(self.database),
            limits=project.host_limits(),
            on_incident=self.incidents.record,
        )
        self.runtime.resolve_module = lambda name: self.images.get(name)
        self.runtime.core = self.commerce
        self.runtime.event_sink = OutboxSink(self.database)
        self.dispatcher = Dispatcher(
            self.database,
            self.runtime,
            lambda: self.images,
            self.ledger,
            self.jobs,
            settings.sync_event_deadline_ms,
        )
        self.commerce.after_commit = self.dispatcher.publish_events
        self.job_workers = project.job_workers()
        self.key_cache = VerifiedKeyCache()
        self.images: dict[str, ModuleImage] = {}
        self.states: dict[str, LoadState] = {}
        self._reconciling = threading.Lock()
        self._reported = False

    def load_all(self) -> None:
        self.reconcile()

    def reconcile(self) -> list[str]:
        """Load what should run and is not, unload what runs and should not; returns what changed."""
        with self._reconciling:
            modules = self.project.load_config().modules
            rows = self.module_states.load()
            changed: list[str] = []
            wanted: dict[str, tuple[ModuleEntry, Manifest | None]] = {}
            for name, entry in sorted(modules.items()):
                desired = self.module_states.desired(name, entry, rows)
                if desired.quarantined:
                    changed += self._stop(
                        name, LoadState(name, entry.version, "quarantined", desired.quarantined)
                    )
                elif not desired.enabled:
                    changed += self._stop(name, LoadState(name, entry.version, "disabled"))
                else:
                    wanted[name] = (entry, self._manifest(name))
            for name in set(self.images) - set(modules):
                changed += self._stop(name, None)
            plan = start_plan({n: (m.dependencies if m else {}) for n, (_, m) in wanted.items()})
            for name, reason in plan.refused.items():
                changed += self._stop(name, LoadState(name, wanted[name][0].version, "failed", reason))
            for name in plan.order:
                entry, manifest = wanted[name]
                problem = self._dependency_problem(manifest, wanted)
                if problem is not None:
                    changed += self._stop(name, LoadState(name, entry.version, "failed", problem))
                    continue
                current = self.images.get(name)
                if (
                    current is not None
                    and current.digest == entry.digest
                    and current.version == entry.version
                ):
                    continue
                self._stop(name, None)
                self._start(name, entry)
                changed.append(name)
            if changed or not self._reported:
                self._report_loads()
            return changed

    def _report_loads(self) -> None:
        try:
            self.load_reports.report(
                LoadReport(self.load_reports.host, s.name, s.version, s.status, s.error, s.load_ms, utcnow())
                for s in self.states.values()
            )
            self._reported = True
        except SQLAlchemyError as error:  # a report is for people; serving goes on without it
            log.warning("could not report module states to the database: %s", error)

    def _manifest(self, name: str) -> Manifest | None:
        try:
            return load_manifest(self.project.module_dir(name))
        except TrafiError:
            return None  # _start reports the error

    def _dependency_problem(
        self, manifest: Manifest | None, wanted: dict[str, tuple[ModuleEntry, Manifest | None]]
    ) -> str | None:
        if manifest is None:
            return None

        def status_of(name: str) -> tuple[str, str | None] | None:
            state = self.states.get(name)
            return (state.status, state.error) if state else None

        versions = {name: entry.version for name, (entry, _) in wanted.items()}
        return dependency_problem(manifest.dependencies, versions, status_of, running="loaded")

    def _start(self, name: str, entry: ModuleEntry) -> None:
        started = time.perf_counter()
        compiles_before = self.runtime.artifacts.compiles
        try:
            folder = self.project.module_dir(name)
            manifest = load_manifest(folder)
            problem = compatibility_problem(manifest)
            if problem is not None:
                raise TrafiError(problem)
            image = self.runtime.load_image(
                manifest, folder, entry.config, entry.env, self.project.data_dir, entry.granted
            )
            artifact_ms = (time.perf_counter() - started) * 1000
            # One instance started and dropped: a module whose init fails or traps
            # is marked failed now, not on its first request.
            services = self.runtime.trial_start(image, MemoryKv())
            image = dataclasses.replace(image, service_names=services)
        except TrafiError as error:
            self.states[name] = LoadState(name, entry.version, "failed", str(error))
            log.error("module_failed module=%s reason=%s", name, error)
            return
        self.images[name] = image
        self.runtime.pool.reopen(name)
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
        """Stop serving a module (the rest of the host goes on) and persist why."""
        version = self.states[name].version if name in self.states else "?"
        self._stop(name, LoadState(name, version, "quarantined", reason))
        self.module_states.set(name, enabled=True, quarantined=reason, actor="host")
        config = self.project.load_config()
        if name in config.modules:
            config.modules[name] = config.modules[name].model_copy(update={"quarantined": reason})
            self.project.save_config(config)
        self.audit.record(name, "quarantined", reason=reason, actor="host")
        self._report_loads()

    def close(self) -> None:
        try:
            self.load_reports.withdraw()
        except SQLAlchemyError as error:
            log.warning("could not withdraw this host's module reports: %s", error)
        self.runtime.close()
        self.database.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
