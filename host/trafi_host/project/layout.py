"""Where things live in a project, and reading/writing its config."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import ProjectError, UnknownModuleError
from ..runtime.image import HostLimits
from ..settings import HostSettings
from ..validation.dependency_scan import AdvisorySources
from .atomic import write_text_atomic
from .config import CONFIG_FILE, ModuleEntry, ProjectConfig
from .exclusive import WaitNotice, exclusive_lock, lock_path
from .lock import LOCK_FILE, LockFile, lock_from_config

Model = TypeVar("Model", bound=BaseModel)


def _read_model(path: Path, model: type[Model], when_missing: str) -> Model:
    """A JSON file read into `model`, or a ProjectError naming the file and every problem in it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(f"{path} is missing; {when_missing}") from None
    except json.JSONDecodeError as error:
        raise ProjectError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise ProjectError(f"{path}: {problems}") from None


@dataclass(frozen=True)
class Project:
    root: Path
    # The environment's settings, read when the project is opened: one read per command.
    settings: HostSettings

    @classmethod
    def init(cls, root: Path, settings: HostSettings | None = None) -> Project:
        project = cls(root.resolve(), settings or HostSettings.from_environment())
        project.state_dir.mkdir(parents=True, exist_ok=True)
        lock_path(project.state_dir).touch()
        if not project.config_path.exists():
            project.save_config(ProjectConfig())
        return project

    @classmethod
    def open(cls, root: Path, settings: HostSettings | None = None) -> Project:
        project = cls(root.resolve(), settings or HostSettings.from_environment())
        if not project.config_path.is_file():
            raise ProjectError(f"{project.root} is not a Trafi project (no {CONFIG_FILE}); run `trafi init`")
        project.state_dir.mkdir(exist_ok=True)
        return project

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def state_dir(self) -> Path:
        return self.root / ".trafi"

    @property
    def modules_dir(self) -> Path:
        return self.state_dir / "modules"

    @property
    def data_dir(self) -> Path:
        """Per-tenant writable folders of modules granted permissions.fs.write."""
        return self.state_dir / "data"

    @property
    def staging_dir(self) -> Path:
        return self.state_dir / "staging"

    @property
    def artifacts_dir(self) -> Path:
        # Compiled artifacts are keyed by content, so projects may share one cache.
        return self.settings.artifact_dir or self.state_dir / "artifacts"

    @property
    def journal_path(self) -> Path:
        """The record of the operation in progress (`project/journal.py`); absent when none is."""
        return self.state_dir / "journal.json"

    def exclusive(self, on_wait: WaitNotice | None = None) -> AbstractContextManager[None]:
        """The project lock (`project/exclusive.py`), waiting up to `TRAFI_PROJECT_LOCK_TIMEOUT`."""
        return exclusive_lock(self.state_dir, self.settings.project_lock_timeout, on_wait)

    def module_dir(self, name: str) -> Path:
        return self.modules_dir / name

    def database_url(self) -> str:
        return (
            self.settings.database_url
            or self.load_config().database_url
            or f"sqlite:///{self.state_dir / 'trafi.db'}"
        )

    def redis_url(self) -> str | None:
        return self.settings.redis_url or self.load_config().redis_url

    def job_workers(self) -> int:
        """Job threads in `trafi serve`: `TRAFI_JOB_WORKERS`, else `host.jobWorkers` of the config."""
        if self.settings.job_workers is not None:
            return self.settings.job_workers
        return self.load_config().host.job_workers

    def load_config(self) -> ProjectConfig:
        return _read_model(self.config_path, ProjectConfig, "run `trafi init`")

    def save_config(self, config: ProjectConfig) -> None:
        """The config, then the lock derived from it (rewritten only when the installed set changed)."""
        text = config.model_dump_json(by_alias=True, indent=2, exclude_none=True) + "\n"
        write_text_atomic(self.config_path, text)
        lock = lock_from_config(config).model_dump_json(by_alias=True, indent=2, exclude_none=True) + "\n"
        try:
            current = self.lock_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != lock:
            write_text_atomic(self.lock_path, lock)

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_FILE

    def load_lock(self) -> LockFile:
        return _read_model(self.lock_path, LockFile, "`trafi module add` writes it")

    def module_entry(self, name: str) -> ModuleEntry:
        entry = self.load_config().modules.get(name)
        if entry is None:
            known = ", ".join(sorted(self.load_config().modules)) or "none"
            raise UnknownModuleError(f"no installed module named {name!r} (installed: {known})")
        return entry

    def advisory_sources(self) -> AdvisorySources:
        security = self.load_config().security
        directory = self.settings.advisories_dir
        if directory is None and security.advisories_dir:
            directory = self.root / security.advisories_dir
        return AdvisorySources(
            directory=directory,
            osv_url=self.settings.osv_url or security.osv_url,
            strict=self.settings.strict_dependencies or security.strict_dependencies,
        )

    def host_limits(self) -> HostLimits:
        host = self.load_config().host
        return HostLimits(
            max_memory_mb=host.max_memory_mb,
            max_timeout_ms=host.max_timeout_ms,
            max_instances_per_tenant=host.max_instances_per_tenant,
            max_live_instances=host.max_live_instances,
            max_request_bytes=host.max_request_bytes,
            max_response_bytes=host.max_response_bytes,
            fuel_per_call=host.fuel_per_call,
            max_abandoned_threads=host.max_abandoned_threads,
        )
