"""The running set of modules: what is enabled in the project, loaded into the runtime.

Loading failures are kept per module (with the reason) and never stop the others.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from .audit_log import AuditLog
from .auth.key_cache import VerifiedKeyCache
from .capabilities.kv.sql_store import SqlKv
from .compatibility import compatibility_problem
from .db.engine import Database
from .errors import TrafiError
from .incidents import IncidentMonitor
from .manifest import load_manifest
from .project import Project
from .runtime import ModuleImage, ModuleRuntime

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
        settings = project.load_config().host
        self.incidents = IncidentMonitor(
            self.audit, settings.incident_threshold, settings.incident_window_seconds, self.quarantine
        )
        self.runtime = ModuleRuntime(
            project.artifacts_dir,
            SqlKv(self.database),
            limits=project.host_limits(),
            on_incident=self.incidents.record,
        )
        self.key_cache = VerifiedKeyCache()
        self.images: dict[str, ModuleImage] = {}
        self.states: dict[str, LoadState] = {}

    def load_all(self) -> None:
        for name, entry in sorted(self.project.load_config().modules.items()):
            if entry.quarantined:
                self.states[name] = LoadState(name, entry.version, "quarantined", entry.quarantined)
                continue
            if not entry.enabled:
                self.states[name] = LoadState(name, entry.version, "disabled")
                continue
            self.load(name)

    def load(self, name: str) -> LoadState:
        entry = self.project.module_entry(name)
        started = time.perf_counter()
        compiles_before = self.runtime.artifacts.compiles
        try:
            folder = self.project.module_dir(name)
            manifest = load_manifest(folder)
            problem = compatibility_problem(manifest)
            if problem is not None:
                raise TrafiError(problem)
            image = self.runtime.load_image(manifest, folder, entry.config, entry.env, self.project.data_dir)
        except TrafiError as error:
            state = LoadState(name, entry.version, "failed", str(error))
            log.error("module %s failed to load: %s", name, error)
        else:
            self.images[name] = image
            state = LoadState(
                name,
                manifest.version,
                "loaded",
                load_ms=round((time.perf_counter() - started) * 1000, 2),
                compiled=self.runtime.artifacts.compiles > compiles_before,
            )
            log.info(
                "module_loaded module=%s version=%s load_ms=%.2f compiled=%s",
                name,
                manifest.version,
                state.load_ms,
                state.compiled,
            )
        self.states[name] = state
        return state

    def quarantine(self, name: str, reason: str) -> None:
        """Stop serving a module (the rest of the host goes on) and persist why."""
        self.images.pop(name, None)
        state = self.states.get(name)
        self.states[name] = LoadState(name, state.version if state else "?", "quarantined", reason)
        self.runtime.unload(name)
        config = self.project.load_config()
        if name in config.modules:
            config.modules[name] = config.modules[name].model_copy(update={"quarantined": reason})
            self.project.save_config(config)
        self.audit.record(name, "quarantined", reason=reason, actor="host")

    def close(self) -> None:
        self.runtime.close()
        self.database.close()
