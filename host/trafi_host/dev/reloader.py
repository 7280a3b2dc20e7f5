"""Modules under development: loaded from their source, swapped for their new code on each save.

A reload reads the manifest (re-validated; a new permission waits for the
author's yes in the terminal), stages the source, starts one throwaway instance
of the new code (its import and `init` must succeed), asks the old instances for
their in-memory state (`@module.on_reload.snapshot`), then swaps the module's
image: routes, services, event subscriptions and metrics all come from the new
code and manifest from the next call on. Until then, and whenever the new code
fails, the previous version keeps serving. No componentize, no compile: the
image is the dev runtime component (compiled once) over a new source folder.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from wasmtime import component as wc

from ..errors import ManifestError, ModuleStartError, TrafiError
from ..manifest.load import load_manifest
from ..manifest.model import MANIFEST_FILE, Manifest, Permissions
from ..module_data import shipped_migrations, sync_migrations
from ..module_host import LoadState, ModuleHost
from ..module_routes.table import route_table
from ..permissions import escalation
from ..runtime import ModuleImage
from ..runtime.artifacts import ArtifactCache
from ..runtime.dev_code import DevCode
from .event_stream import DevEvent, DevEventStream
from .runtime_component import default_cache_dir, dev_runtime_component
from .source_problem import ProblemKind, SourceProblem, problem_from_guest
from .staging import StagedSource, current_digest, prune_staged, stage_source
from .vendor import RequirementsError, vendor_requirements

log = logging.getLogger("trafi.dev")

# (module, {permission item: reason}) -> whether the author grants the new permissions.
ConfirmPermissions = Callable[[str, dict[str, str]], bool]
# Told of each reload and error (the terminal).
ReportEvent = Callable[[DevEvent], None]


class _Failed(Exception):
    def __init__(self, problem: SourceProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclasses.dataclass
class _Served:
    name: str
    granted: Permissions
    staged: StagedSource | None = None


class DevModules:
    def __init__(
        self,
        host: ModuleHost,
        dev_dir: Path,
        events: DevEventStream,
        confirm: ConfirmPermissions,
        report: ReportEvent | None = None,
        runtime_cache: Path | None = None,
        wit_root: Path | None = None,
    ) -> None:
        if not host.runtime.dev:
            raise ValueError("DevModules needs a ModuleHost made with dev=True")
        self.host = host
        self.dev_dir = dev_dir
        self.events = events
        self.confirm = confirm
        self.report = report or (lambda event: None)
        self.runtime_cache = runtime_cache
        self.wit_root = wit_root
        self.directories: list[Path] = []
        self._served: dict[Path, _Served] = {}
        self._generation = 0
        # The dev runtime compiled once per world and kept in the user's cache: a new dev
        # project (or a test's) does not pay the compile again.
        self._artifacts = ArtifactCache(
            (runtime_cache or default_cache_dir()) / "artifacts", host.runtime.engine, host.runtime.settings
        )
        self._components: dict[Path, tuple[wc.Component, str]] = {}
        self._runtime_paths: dict[str, Path] = {}  # world version -> dev runtime (fixed per session)
        self._migrations_synced: dict[str, str] = {}  # module -> what the last sync ran from
        self._lock = threading.Lock()  # one reload at a time

    def names(self) -> list[str]:
        return [served.name for served in self._served.values()]

    def claim(self, module_dir: Path) -> None:
        """Watch `module_dir` and keep its module's name for dev (before the host reconciles)."""
        module_dir = module_dir.resolve()
        if module_dir not in self.directories:
            self.directories.append(module_dir)
        try:
            self.host.dev_modules.add(load_manifest(module_dir).name)
        except ManifestError:
            self.host.dev_modules.add(module_dir.name)  # reported by its first load

    def load(self, module_dir: Path, seen_at: float | None = None) -> DevEvent:
        """Load (or reload) the module in `module_dir`; `seen_at`: `perf_counter()` of the save."""
        module_dir = module_dir.resolve()
        if module_dir not in self.directories:
            self.directories.append(module_dir)
        started = seen_at if seen_at is not None else time.perf_counter()
        with self._lock:
            served = self._served.get(module_dir)
            name = served.name if served else module_dir.name
            try:
                event = self._swap(module_dir, started)
            except _Failed as failure:
                event = self._failed(failure.problem, self._served.get(module_dir))
            except TrafiError as error:  # a host-side step (the dev runtime build, the artifact)
                event = self._failed(SourceProblem(module=name, kind="runtime", message=str(error)), served)
        self.report(event)
        return event

    def reload_if_changed(self, module_dir: Path) -> DevEvent | None:
        """Reload when the folder differs from the version served (a save the watcher may have
        missed while it started); None when it does not."""
        served = self._served.get(module_dir.resolve())
        if served is not None and served.staged is not None:
            try:
                if current_digest(module_dir, load_manifest(module_dir)) == served.staged.digest:
                    return None
            except (ManifestError, OSError):
                pass  # the load says what is wrong
        return self.load(module_dir)

    def _swap(self, module_dir: Path, started: float) -> DevEvent:
        manifest = self._manifest(module_dir)
        name = manifest.name
        served = self._served.get(module_dir)
        if served is not None and served.name != name:
            raise _Failed(
                SourceProblem(
                    module=served.name,
                    kind="manifest",
                    message=f"the module's name changed to {name!r}: restart `trafi dev` to serve it so",
                    file=str(module_dir / MANIFEST_FILE),
                )
            )
        granted = self._granted(manifest, served)
        self.host.dev_modules.add(name)
        component = self._runtime_path(manifest.wit_version)
        staged = stage_source(module_dir, manifest, self.dev_dir)
        try:
            vendor = vendor_requirements(module_dir, name, self.dev_dir)
            self._sync_migrations(manifest, module_dir)
        except RequirementsError as error:
            raise _Failed(
                self._problem(name, "requirements", str(error), module_dir / "requirements.txt")
            ) from None
        except TrafiError as error:
            raise _Failed(self._problem(name, "migration", str(error), module_dir)) from None
        self._generation += 1
        compiled, digest = self._compiled(component, name)
        previous = self.host.images.get(name)
        # The old code's in-memory state, per tenant, before any new instance starts (they restore it).
        kept = self.host.runtime.snapshot_states(previous) if previous and previous.dev_code else {}
        image = ModuleImage(
            manifest,
            compiled,
            f"dev-{digest[:12]}-{staged.digest[:12]}-{self._generation}",
            module_dir,
            {},
            self.host.runtime.limits,
            {},
            self.host.project.data_dir,
            granted,
            dev_code=DevCode(staged.folder, vendor, kept),
        )
        tenants = self.host.runtime.pool.tenants_of(name, previous.load_id) if previous else []
        try:
            # The tenants served so far get their new instance now (the import and init of the new
            # code checked on it, the state restored): their next call finds it warm. Without any,
            # one throwaway instance checks the code.
            offer = (
                self.host.runtime.prestart(image, tenants)
                if tenants
                else self.host.runtime.trial_start(image, self.host.trial_capabilities)
            )
            # Routes a request could not be told apart by: a failed reload, naming both.
            route_table(image.load_id, name, offer.declarations.routes)
        except TrafiError as error:
            self.host.runtime.retire(image)  # what started before the failure
            if not isinstance(error, ModuleStartError):
                raise
            source_root = (module_dir / manifest.build.source_dir).resolve()
            raise _Failed(problem_from_guest(name, str(error), staged.folder / "src", source_root)) from None
        image = image.offering(offer)
        # The swap: the next call (HTTP, event, service) gets the new code.
        self.host.images[name] = image
        self.host.runtime.pool.reopen(name)
        reload_ms = round((time.perf_counter() - started) * 1000, 2)
        self.host.states[name] = LoadState(name, manifest.version, "loaded", load_ms=reload_ms)
        if previous is not None:
            self.host.runtime.retire(previous)
        self._served[module_dir] = _Served(name, granted, staged)
        event = self.events.publish("reloaded", name, version=manifest.version, reload_ms=reload_ms)
        keep = {staged.folder} | ({served.staged.folder} if served and served.staged else set())
        prune_staged(self.dev_dir, name, keep)  # after the announcement: not on the reload's path
        return event

    def _runtime_path(self, wit_version: str) -> Path:
        known = self._runtime_paths.get(wit_version)
        if known is None:
            known = self._runtime_paths[wit_version] = dev_runtime_component(
                wit_version, self.runtime_cache, self.wit_root
            )
        return known

    def _sync_migrations(self, manifest: Manifest, module_dir: Path) -> None:
        """The module's tables brought to its migrations, when they changed since the last sync."""
        shipped = repr(shipped_migrations(manifest, module_dir))
        if self._migrations_synced.get(manifest.name) == shipped:
            return
        sync_migrations(self.host.migrations, manifest, module_dir)
        self._migrations_synced[manifest.name] = shipped

    def _compiled(self, component: Path, module: str) -> tuple[wc.Component, str]:
        known = self._components.get(component)
        if known is None:
            known = self._components[component] = self._artifacts.load(component, module)
        return known

    def _manifest(self, module_dir: Path) -> Manifest:
        try:
            return load_manifest(module_dir)
        except ManifestError as error:
            served = self._served.get(module_dir)
            raise _Failed(
                self._problem(
                    served.name if served else module_dir.name,
                    "manifest",
                    str(error),
                    module_dir / MANIFEST_FILE,
                )
            ) from None

    def _granted(self, manifest: Manifest, served: _Served | None) -> Permissions:
        """What the module may use: at first load what its manifest asks (the author started it);
        after, a new permission only once the author says yes in the terminal."""
        if served is None:
            return manifest.permissions
        missing = escalation(manifest.permissions, served.granted)
        if missing and not self.confirm(manifest.name, missing):
            raise _Failed(
                SourceProblem(
                    module=manifest.name,
                    kind="permission",
                    message="new permissions not granted: " + ", ".join(sorted(missing)),
                )
            )
        return manifest.permissions

    @staticmethod
    def _problem(module: str, kind: ProblemKind, message: str, file: Path) -> SourceProblem:
        return SourceProblem(module=module, kind=kind, message=message, file=str(file))

    def _failed(self, problem: SourceProblem, served: _Served | None) -> DevEvent:
        image = self.host.images.get(problem.module)
        if image is None:
            # Nothing to keep serving: the module's calls answer 503 with the problem (dev only).
            self.host.dev_modules.add(problem.module)
            self.host.states[problem.module] = LoadState(
                problem.module,
                "?",
                "failed",
                problem.render(),
                problem=problem.model_dump(exclude_none=True),
            )
        log.debug("module %s: reload failed: %s", problem.module, problem.message)
        return self.events.publish(
            "error", problem.module, problem=problem, serving=image.version if image else None
        )
