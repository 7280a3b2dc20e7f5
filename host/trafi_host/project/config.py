"""`trafi.config.json`: which modules are installed, from where, enabled or not, their settings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ..manifest.model import Permissions
from ..rate_limits.rate import RateText
from ..runtime.body_caps import MAX_ONE_COPY_BODY_BYTES, ONE_COPY_DEFAULT

CONFIG_FILE = "trafi.config.json"


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class ModuleSource(ConfigModel):
    kind: Literal["path", "git", "npm"]
    spec: str = Field(description="What the user typed, e.g. `./modules/hello`, `github:acme/hello#v1`.")
    resolved: str = Field(
        description="Exactly what was installed: an absolute path (`#sha256=` for a .tgz), "
        "`git+<url>#<commit>`, or `<package>@<version>` for npm."
    )
    integrity: str | None = Field(
        default=None, description="npm: the verified SRI (`sha512-…`); a .tgz: `sha256=<hex>`."
    )


class AllowedRule(ConfigModel):
    """An operator's override of a validation rule for one module, with the reason given."""

    rule: str
    reason: str


class ModuleEntry(ConfigModel):
    version: str
    enabled: bool = True
    source: ModuleSource
    digest: str = Field(description="sha256 of the installed component.")
    source_digest: str | None = Field(
        default=None,
        description="sha256 of the module's source files (not the component): tells a rebuild of "
        "the same source from a different module.",
    )
    config: dict[str, Any] = Field(default_factory=dict, description="The module's own settings.")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Values of the environment variables the manifest's permissions.env names; "
        "never taken from the host process.",
    )
    quarantined: str | None = Field(
        default=None,
        description="Why the host quarantined the module (too many incidents); enable lifts it.",
    )
    granted: Permissions | None = Field(
        default=None, description="The permissions the operator granted (at install, or with --grant)."
    )
    allowed_rules: list[AllowedRule] = Field(
        default_factory=list, description="Validation rules the operator accepted, with reasons."
    )


class HostSettings(ConfigModel):
    max_memory_mb: int = Field(
        default=256,
        ge=16,
        description="The most linear memory (MiB) an instance gets, whatever its manifest's "
        "`limits.memoryMb` asks.",
    )
    max_timeout_ms: int = Field(
        default=10_000,
        ge=10,
        description="The longest call deadline (ms), whatever a manifest's `limits.timeoutMs` asks.",
    )
    max_instances_per_tenant: int = Field(
        default=8,
        ge=1,
        description="The most instances of one module for one tenant (its concurrent calls), whatever a "
        "manifest's `limits.instancesPerTenant` asks.",
    )
    max_live_instances: int = Field(
        default=512,
        ge=1,
        description="The most module instances alive in one host process: past it the least recently "
        "used idle one is dropped, or a call waits for one to be given back.",
    )
    fuel_per_call: int | None = Field(
        default=None, ge=1_000_000, description="Optional CPU budget per call in wasmtime fuel."
    )
    max_abandoned_threads: int = Field(
        default=4,
        ge=0,
        le=256,
        description="Worker threads a host may leave blocked in a WASI call (a guest's long sleep) after "
        "abandoning their calls at the deadline, each replaced by a new thread; a module that would "
        "block one more is quarantined.",
    )
    max_request_bytes: int = Field(
        default=ONE_COPY_DEFAULT.request,
        ge=1 << 10,
        le=MAX_ONE_COPY_BODY_BYTES,
        description="The largest request body a module of world 0.3.0 may be sent (413 past it); "
        "modules of worlds 0.1/0.2 keep 1 MiB at most, what their `list<u8>` bodies carry.",
    )
    max_response_bytes: int = Field(
        default=ONE_COPY_DEFAULT.response,
        ge=1 << 10,
        le=MAX_ONE_COPY_BODY_BYTES,
        description="The largest response body a module of world 0.3.0 may answer (502 "
        "`oversized-response` past it); modules of worlds 0.1/0.2 keep 1.5 MiB at most.",
    )
    incident_threshold: int = Field(
        default=5, ge=1, description="Incidents within `incidentWindowSeconds` that quarantine a module."
    )
    incident_window_seconds: float = Field(
        default=60, gt=0, description="The window `incidentThreshold` counts in, in seconds."
    )
    sync_event_deadline_ms: int = Field(
        default=250,
        ge=10,
        le=10_000,
        description="How long a business request waits for sync event handlers.",
    )
    job_workers: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Threads running async event jobs inside `trafi serve`; 0 when `trafi worker` "
        "processes run them (`TRAFI_JOB_WORKERS` overrides).",
    )
    event_retry_base_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="First retry delay of a failed async handler; doubles each time.",
    )
    rate_limit: RateText | None = Field(
        default=None,
        description="The rate limit per tenant of a module whose manifest sets no `rateLimit`, "
        "e.g. `600/minute` (unset: no limit); see docs/rate-limits.md.",
    )


class SecuritySettings(ConfigModel):
    """Where dependency advisories come from (env vars TRAFI_ADVISORIES_DIR / TRAFI_OSV_URL override)."""

    advisories_dir: str | None = Field(default=None, description="Folder of OSV JSON advisories.")
    osv_url: str | None = Field(default=None, description="OSV API base URL, e.g. https://api.osv.dev.")
    strict_dependencies: bool = Field(default=False, description="An unscanned lock file blocks.")


class UpdateSettings(ConfigModel):
    """How updates are kept and judged (docs/updating.md)."""

    keep_versions: int = Field(
        default=3, ge=0, le=100, description="Previous versions of each module kept on disk for rollback."
    )
    health_window_calls: int = Field(
        default=50, ge=1, description="An update passes after this many calls without failing..."
    )
    health_window_seconds: float = Field(
        default=300, gt=0, description="...or once this long has passed since it was switched in."
    )
    health_max_failures: int = Field(
        default=3,
        ge=1,
        description="Failed calls (5xx, traps, deadlines, per-tenant init failures) that fail the "
        "window and roll the update back.",
    )
    health_max_error_rate: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Failure ratio that fails the window once 10 calls have been seen.",
    )


class ProjectConfig(ConfigModel):
    schema_version: Literal[1] = 1
    database_url: str | None = Field(
        default=None, description="Overrides the SQLite default; `TRAFI_DATABASE_URL` overrides this."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for announcing module state changes to every host process (and, later, "
        "jobs); `TRAFI_REDIS_URL` overrides this.",
    )
    host: HostSettings = Field(default_factory=HostSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    updates: UpdateSettings = Field(default_factory=UpdateSettings)
    modules: dict[str, ModuleEntry] = Field(default_factory=dict)
