"""The host's settings from the environment (`TRAFI_*`): read once per process or command, then passed on.

Each field is the variable `TRAFI_<FIELD IN CAPITALS>`; an unset or empty
variable leaves the default. Where `trafi.config.json` has the same setting,
the variable wins. docs/settings.md is generated from this model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from .errors import ExitCode, TrafiError


def variable_name(field: str) -> str:
    """The environment variable of a `HostSettings` field: `job_workers` -> `TRAFI_JOB_WORKERS`."""
    return f"TRAFI_{field.upper()}"


class SettingsError(TrafiError):
    """A `TRAFI_*` environment variable has a value the host cannot use."""

    exit_code = ExitCode.SETTINGS


class HostSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    project: Path | None = Field(
        default=None,
        description="The project folder of `trafi` commands given no `-C` (unset: the current folder).",
    )
    database_url: str | None = Field(
        default=None,
        description="The host database (SQLAlchemy URL); overrides `databaseUrl` in the config "
        "(unset: SQLite in `.trafi/`).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for module-state announcements and the job queue; overrides `redisUrl` "
        "in the config.",
    )
    job_workers: int | None = Field(
        default=None,
        ge=0,
        le=64,
        description="Threads running async event jobs in `trafi serve`; overrides `host.jobWorkers` "
        "in the config.",
    )
    job_queue: str = Field(
        default="trafi-events",
        description="The job queue's name; stores sharing one Redis each need their own, the same "
        "in their hosts and workers.",
    )
    rate_limit_prefix: str = Field(
        default="trafi-ratelimit",
        min_length=1,
        max_length=100,
        description="The prefix of the rate-limit counters in Redis; stores sharing one Redis each "
        "need their own, the same in all their hosts.",
    )
    artifact_dir: Path | None = Field(
        default=None,
        description="Compiled components, shared by projects (unset: `.trafi/artifacts`; outside a "
        "project, `$XDG_CACHE_HOME/trafi/artifacts`).",
    )
    actor: str | None = Field(
        default=None,
        description="Who the audit log names for a command, e.g. set by automation (unset: the OS user).",
    )
    advisories_dir: Path | None = Field(
        default=None,
        description="Folder of OSV JSON advisories; overrides `security.advisoriesDir` in the config.",
    )
    osv_url: str | None = Field(
        default=None,
        description="OSV API base URL, e.g. https://api.osv.dev; overrides `security.osvUrl` in the config.",
    )
    strict_dependencies: bool = Field(
        default=False,
        description="`1`: a dependency lock that could not be scanned blocks, as "
        "`security.strictDependencies` does.",
    )
    npm_registry: str | None = Field(
        default=None,
        description="The npm registry of unscoped packages; overrides `registry=` of every `.npmrc`.",
    )
    npm_token: SecretStr | None = Field(
        default=None, description="The auth token for that registry; overrides its `_authToken` in `.npmrc`."
    )
    wit_dir: Path | None = Field(
        default=None,
        description="The WIT folder builds use, with `since_v<version>/` inside (unset: this "
        "repository's `wit/`).",
    )
    dashboard_dir: Path | None = Field(
        default=None,
        description="The built admin dashboard served at `/admin` (unset: this repository's "
        "`dashboard/dist`, which `./bootstrap` builds).",
    )
    trace_hostcalls: bool = Field(
        default=False,
        description="Log every host call a module makes (module, tenant, arguments) to the "
        "`trafi.hostcalls` logger: for debugging a module, never in production.",
    )

    native_boundary: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Module calls through the C call boundary (`runtime/native/`): `auto` uses it "
        "when it is built and falls back to wasmtime-py, `on` refuses to start without it, `off` "
        "never uses it.",
    )

    wasm_profiler: Literal["none", "perfmap", "jitdump"] = Field(
        default="none",
        description="Let `perf` name the modules' compiled functions: `perfmap` writes "
        "`/tmp/perf-<pid>.map`, `jitdump` a `jit-<pid>.dump` for `perf inject`; `none` (the default) "
        "neither. For profiling a host, never in production: each load of a module adds to the file.",
    )

    project_lock_timeout: int = Field(
        default=300,
        ge=0,
        le=86_400,
        description="Seconds a command that changes the project (add, install, enable, disable, "
        "remove, cache prune) waits for another one to finish before giving up with exit code 19.",
    )

    otlp_metrics_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP metrics receiver, e.g. `http://collector:4318/v1/metrics`: module "
        "metrics are sent there as well as served on `/metrics` (unset: not sent).",
    )
    otlp_export_interval_ms: int = Field(
        default=10_000,
        ge=100,
        le=600_000,
        description="How often module metrics are sent to the OTLP endpoint, in milliseconds.",
    )

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ) -> HostSettings:
        """The settings `env` gives; a value of the wrong kind is a SettingsError naming its variable."""
        values = {name: env[variable_name(name)] for name in cls.model_fields if env.get(variable_name(name))}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = []
            for problem in error.errors():
                name = str(problem["loc"][0])
                shown = "(hidden)" if name == "npm_token" else repr(values.get(name))
                problems.append(f"{variable_name(name)}={shown}: {problem['msg']}")
            raise SettingsError("bad environment variable(s): " + "; ".join(problems)) from None

    @property
    def npm_token_value(self) -> str | None:
        return self.npm_token.get_secret_value() if self.npm_token is not None else None


def trace_hostcalls_enabled(env: Mapping[str, str] = os.environ) -> bool:
    """`TRAFI_TRACE_HOSTCALLS` alone, without the rest: a bad unrelated variable must not
    stop the capability code from importing."""
    value = env.get(variable_name("trace_hostcalls"), "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _one_setting(field: str, env: Mapping[str, str]) -> str:
    """One `Literal` setting read alone, checked against the values its field allows."""
    info = HostSettings.model_fields[field]
    allowed = get_args(info.annotation)
    value = env.get(variable_name(field), "").strip().lower() or str(info.default)
    if value not in allowed:
        raise SettingsError(
            f"bad environment variable(s): {variable_name(field)}={value!r}: "
            f"expected one of {', '.join(allowed)}"
        )
    return value


def native_boundary_mode(env: Mapping[str, str] = os.environ) -> str:
    """`TRAFI_NATIVE_BOUNDARY` alone (the runtime reads it where no other setting is at hand)."""
    return _one_setting("native_boundary", env)


def wasm_profiler_mode(env: Mapping[str, str] = os.environ) -> str:
    """`TRAFI_WASM_PROFILER` alone (the engine is made where no other setting is at hand)."""
    return _one_setting("wasm_profiler", env)
