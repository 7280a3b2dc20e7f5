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
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path

import wasmtime
from pydantic import BaseModel, ConfigDict, ValidationError
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


def file_sha256(path: Path) -> str:
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


def component_digest(path: Path) -> str:
    """What identifies a component: the sha256 of its file."""
    return file_sha256(path)


class ArtifactRecord(BaseModel):
    """Written beside each compiled artifact: what it was compiled from and its own digest.

    Deserialising an artifact runs no checks (wasmtime trusts it as native code):
    a corrupted or swapped file would crash the process or run the wrong module.
    The record is checked first, so only the bytes this cache wrote are mapped.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    component: str  # sha256 of the component the artifact was compiled from
    artifact: str  # sha256 of the artifact file
    size: int
    engine: str  # the engine settings fingerprint


class ArtifactCache:
    def __init__(self, root: Path, engine: wasmtime.Engine, settings: EngineSettings) -> None:
        self.root = root
        self.engine = engine
        self.settings = settings
        self.compiles = 0  # how many Cranelift compiles this cache ran: tests and bench read it
        self.hits = 0
        self.rejected = 0  # artifacts found on disk that did not match their record
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, root: Path, settings: EngineSettings) -> ArtifactCache:
        """A cache with an engine of its own, to compile and inspect components without running them
        (no epoch thread, no worker pool); its artifacts are those a runtime with `settings` loads."""
        return cls(root, make_engine(settings), settings)

    def path_for(self, digest: str) -> Path:
        return self.root / f"{digest}-{self.settings.fingerprint()}.cwasm"

    @staticmethod
    def record_path(artifact: Path) -> Path:
        return artifact.with_suffix(".json")

    def _mismatch(self, artifact: Path, digest: str) -> str | None:
        """Why the artifact on disk must not be mapped, or None when it is the one this cache wrote."""
        try:
            record = ArtifactRecord.model_validate_json(self.record_path(artifact).read_bytes())
        except FileNotFoundError:
            return "it has no record"
        except ValidationError:
            return "its record is unreadable"
        if record.component != digest or record.engine != self.settings.fingerprint():
            return "its record is for another component or engine"
        if artifact.stat().st_size != record.size or file_sha256(artifact) != record.artifact:
            return "its bytes differ from the record (corrupted or replaced)"
        return None

    def load(self, component_path: Path, module: str = "?") -> tuple[wc.Component, str]:
        """The compiled component, compiling (and storing) it only on a cache miss."""
        if not component_path.is_file():
            raise ComponentError(f"module {module}: component file {component_path} does not exist")
        digest = component_digest(component_path)
        artifact = self.path_for(digest)
        with self._lock:
            if artifact.is_file():
                mismatch = self._mismatch(artifact, digest)
                if mismatch is None:
                    try:
                        component = wc.Component.deserialize_file(self.engine, str(artifact))
                        self.hits += 1
                        return component, digest
                    except wasmtime.WasmtimeError as error:
                        mismatch = f"wasmtime refused it ({error})"
                self.rejected += 1
                log.warning(
                    "artifact %s of module %s not used: %s; recompiling from the component",
                    artifact.name,
                    module,
                    mismatch,
                )
            component = self._compile(component_path, module)
            self._store(component, artifact, digest)
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

    def _store(self, component: wc.Component, artifact: Path, digest: str) -> None:
        """The artifact and its record, each written whole (a crash between leaves a mismatch,
        which recompiles)."""
        self.root.mkdir(parents=True, exist_ok=True)
        data = component.serialize()
        record = ArtifactRecord(
            component=digest,
            artifact=hashlib.sha256(data).hexdigest(),
            size=len(data),
            engine=self.settings.fingerprint(),
        )
        self._write(self.record_path(artifact), record.model_dump_json().encode())
        self._write(artifact, data)

    def _write(self, target: Path, data: bytes | bytearray) -> None:
        # The writer's pid in the name: a sweep removes the file only once that process is gone.
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".tmp-{os.getpid()}-", suffix=target.suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class CachedArtifact:
    """One compiled artifact on disk (with its record beside it)."""

    path: Path
    component: str  # sha256 of the component it was compiled from
    size: int  # bytes, the artifact and its record


def cached_artifacts(root: Path) -> list[CachedArtifact]:
    """The artifacts in a cache folder, named `<component sha256>-<engine>.cwasm`."""
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.glob("*.cwasm")):
        if path.name.startswith("."):
            continue
        record = ArtifactCache.record_path(path)
        size = path.stat().st_size + (record.stat().st_size if record.is_file() else 0)
        found.append(CachedArtifact(path, path.name.split("-", 1)[0], size))
    return found


def prune_artifacts(root: Path, keep: Set[str], dry_run: bool = False) -> list[CachedArtifact]:
    """Delete the artifacts (and their records) of components not in `keep`, for every engine
    setting; records without an artifact go too. Returns what went (or would go, `dry_run`)."""
    pruned = [artifact for artifact in cached_artifacts(root) if artifact.component not in keep]
    if dry_run:
        return pruned
    for artifact in pruned:
        ArtifactCache.record_path(artifact.path).unlink(missing_ok=True)
        artifact.path.unlink(missing_ok=True)
    for record in root.glob("*.json") if root.is_dir() else []:
        if not record.with_suffix(".cwasm").exists() and record.name.split("-", 1)[0] not in keep:
            record.unlink(missing_ok=True)
    return pruned
