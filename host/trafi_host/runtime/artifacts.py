"""Compiled components on disk, keyed by the component's sha256 and the engine settings.

Installing pays the Cranelift compile (seconds); starting and enabling only map
the artifact (milliseconds).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path

import wasmtime
from wasmtime import component as wc

from ..errors import ComponentError
from .engine import EngineSettings, make_engine

log = logging.getLogger("trafi.artifacts")


def default_artifact_dir(configured: Path | None) -> Path:
    """Where compiled artifacts go outside a project: `configured` (the `TRAFI_ARTIFACT_DIR`
    setting), else the user cache."""
    if configured is not None:
        return configured
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trafi" / "artifacts"


_digests: dict[tuple[str, int, int, int], str] = {}


def component_digest(path: Path) -> str:
    """sha256 of the file; memoised per (path, inode, size, mtime) within the process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    known = _digests.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    _digests[key] = digest.hexdigest()
    return _digests[key]


class ArtifactCache:
    def __init__(self, root: Path, engine: wasmtime.Engine, settings: EngineSettings) -> None:
        self.root = root
        self.engine = engine
        self.settings = settings
        self.compiles = 0  # how many Cranelift compiles this cache ran: tests and bench read it
        self.hits = 0
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, root: Path, settings: EngineSettings) -> ArtifactCache:
        """A cache with an engine of its own, to compile and inspect components without running them
        (no epoch thread, no worker pool); its artifacts are those a runtime with `settings` loads."""
        return cls(root, make_engine(settings), settings)

    def path_for(self, digest: str) -> Path:
        return self.root / f"{digest}-{self.settings.fingerprint()}.cwasm"

    def load(self, component_path: Path, module: str = "?") -> tuple[wc.Component, str]:
        """The compiled component, compiling (and storing) it only on a cache miss."""
        if not component_path.is_file():
            raise ComponentError(f"module {module}: component file {component_path} does not exist")
        digest = component_digest(component_path)
        artifact = self.path_for(digest)
        with self._lock:
            if artifact.is_file():
                try:
                    component = wc.Component.deserialize_file(self.engine, str(artifact))
                    self.hits += 1
                    return component, digest
                except wasmtime.WasmtimeError as error:
                    log.warning("artifact %s unreadable (%s); recompiling", artifact.name, error)
            component = self._compile(component_path, module)
            self._store(component, artifact)
            return component, digest

    def _compile(self, component_path: Path, module: str) -> wc.Component:
        try:
            component = wc.Component.from_file(self.engine, str(component_path))
        except wasmtime.WasmtimeError as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "unknown error"
            raise ComponentError(
                f"module {module}: {component_path.name} is not a valid WebAssembly component: {first}"
            ) from None
        self.compiles += 1
        log.info("compiled %s for module %s", component_path.name, module)
        return component

    def _store(self, component: wc.Component, artifact: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=".cwasm")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(component.serialize())
            os.replace(tmp, artifact)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
