"""`trafi-module.json`: the pydantic models are the single definition.

The JSON Schema in `docs/manifest.schema.json` is generated from these models,
and a test fails when the committed file differs.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import nodesemver
import semver
from license_expression import get_spdx_licensing
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from ..version import SUPPORTED_WIT_VERSIONS, WIT_VERSION

MANIFEST_FILE = "trafi-module.json"

NAME_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
EVENT_PATTERN = r"^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$"
ENV_PATTERN = r"^[A-Z][A-Z0-9_]*$"
SCOPE_PATTERN = r"^[a-z][a-z-]*:(read|write)$"

ModuleName = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        min_length=1,
        max_length=64,
        description="Lowercase kebab-case, e.g. `loyalty-points`.",
    ),
]
Reason = Annotated[
    str,
    Field(min_length=3, max_length=500, description="Why the module needs this; shown to reviewers."),
]
RelativePath = Annotated[
    str,
    Field(min_length=1, description="A path relative to the module's folder, inside it."),
]

_licensing = get_spdx_licensing()


class ManifestModel(BaseModel):
    """Strict base: unknown keys are errors, JSON keys are camelCase."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
    )


def _check_relative(path: str) -> str:
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        raise ValueError("must be relative to the module folder, not absolute")
    if ".." in re.split(r"[\\/]", path):
        raise ValueError("must stay inside the module folder (no '..')")
    return path


class EntryPoints(ManifestModel):
    backend: RelativePath = Field(description="The built WebAssembly component, e.g. `dist/hello.wasm`.")
    dashboard: RelativePath | None = Field(
        default=None, description="The dashboard entry (views the module contributes), if any."
    )

    _relative = field_validator("backend", "dashboard")(lambda v: v if v is None else _check_relative(v))


class BuildSettings(ManifestModel):
    """How `trafi module build` turns the Python source into the component."""

    python_module: str = Field(
        default="app",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$",
        description="The module's Python entry module, imported at build time.",
    )
    source_dir: RelativePath = Field(default=".", description="Folder holding the Python source.")

    _relative = field_validator("source_dir")(_check_relative)


class Grant(ManifestModel):
    reason: Reason


class PathGrant(ManifestModel):
    path: RelativePath
    reason: Reason

    _relative = field_validator("path")(_check_relative)


class FsPermission(ManifestModel):
    read: list[PathGrant] = Field(default_factory=list, description="Module assets, read-only.")
    write: list[PathGrant] = Field(
        default_factory=list, description="Folders in the tenant's data folder, read-write."
    )


class NetworkGrant(ManifestModel):
    host: str = Field(min_length=1, max_length=253, description="Exact host name or `*.example.com`.")
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(default_factory=lambda: [443])
    schemes: list[Literal["https", "http"]] = Field(default_factory=lambda: ["https"])  # type: ignore[arg-type]
    allow_private: bool = Field(
        default=False,
        description="May resolve to loopback/private/link-local addresses (an on-premise service). "
        "An IP literal host names its address explicitly and needs no flag.",
    )
    reason: Reason


class EnvGrant(ManifestModel):
    name: str = Field(
        pattern=ENV_PATTERN, description="Variable name; its value comes from the operator's config."
    )
    reason: Reason


class ScopeGrant(ManifestModel):
    scope: str = Field(pattern=SCOPE_PATTERN, description="A core service scope such as `orders:read`.")
    reason: Reason


class Permissions(ManifestModel):
    """What the module asks for. Nothing here means nothing granted."""

    kv: Grant | None = Field(default=None, description="Key-value state scoped to tenant and module.")
    db: Grant | None = Field(default=None, description="Own tables (prefixed with the module name).")
    fs: FsPermission | None = None
    network: list[NetworkGrant] = Field(default_factory=list)
    env: list[EnvGrant] = Field(default_factory=list)
    core: list[ScopeGrant] = Field(default_factory=list)


class EventSubscription(ManifestModel):
    event: str = Field(pattern=EVENT_PATTERN, description="Event type, e.g. `order.created`.")
    mode: Literal["sync", "async"] = Field(
        default="async", description="`sync` runs after commit under a deadline; `async` runs as a job."
    )
    max_retries: int = Field(default=5, ge=0, le=50, description="Async only: attempts before dead-letter.")


class Limits(ManifestModel):
    """What the module asks for; the host's maxima cap these."""

    memory_mb: int = Field(default=64, ge=16, le=4096, description="Linear memory cap per instance.")
    timeout_ms: int = Field(default=2000, ge=10, le=60_000, description="Wall-clock deadline per call.")
    instances_per_tenant: int = Field(
        default=4, ge=1, le=16, description="Concurrent instances serving one tenant."
    )


class Author(ManifestModel):
    name: str = Field(min_length=1)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    url: str | None = None


class Manifest(ManifestModel):
    """A Trafi module manifest (`trafi-module.json`)."""

    model_config = ConfigDict(
        title="Trafi module manifest",
        json_schema_extra={"$id": "https://trafi.dev/schemas/trafi-module.schema.json"},
    )

    schema_: str | None = Field(default=None, alias="$schema", description="Editor hint; ignored.")
    name: ModuleName
    version: str = Field(description="Semantic version of the module, e.g. `1.2.0`.")
    description: str = Field(min_length=1, max_length=500)
    author: str | Author = Field(description="`Name <email>` or an object.")
    license: str = Field(description="SPDX license expression, e.g. `MIT` or `MIT OR Apache-2.0`.")
    trafi: str = Field(
        description="Semver range of Trafi host versions the module works with, e.g. `^0.1.0`."
    )
    world: str = Field(
        default=f"trafi:host/module@{WIT_VERSION}",
        description="The WIT world the component targets.",
    )
    entry: EntryPoints
    build: BuildSettings = Field(default_factory=BuildSettings)
    permissions: Permissions = Field(default_factory=Permissions)
    migrations: RelativePath | None = Field(default=None, description="Folder of the module's migrations.")
    events: list[EventSubscription] = Field(default_factory=list, description="Event subscriptions.")
    dependencies: dict[ModuleName, str] = Field(
        default_factory=dict, description="Other modules this one needs: name to semver range."
    )
    limits: Limits = Field(default_factory=Limits)

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not semver.Version.is_valid(value):
            raise ValueError("must be a semantic version such as 1.0.0")
        return value

    @field_validator("license")
    @classmethod
    def _spdx(cls, value: str) -> str:
        if value == "UNLICENSED":
            return value
        errors = _licensing.validate(value).errors
        if errors:
            raise ValueError(f"must be an SPDX license expression: {'; '.join(errors)}")
        return value

    @field_validator("trafi")
    @classmethod
    def _range(cls, value: str) -> str:
        if nodesemver.valid_range(value, False) is None:
            raise ValueError("must be a semver range such as ^0.1.0 or >=0.1 <0.3")
        return value

    @field_validator("dependencies")
    @classmethod
    def _dependency_ranges(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [
            f"{name}: {rng!r}" for name, rng in value.items() if nodesemver.valid_range(rng, False) is None
        ]
        if bad:
            raise ValueError(f"each value must be a semver range; not ranges: {', '.join(bad)}")
        return value

    @field_validator("world")
    @classmethod
    def _world(cls, value: str) -> str:
        match = re.fullmatch(r"trafi:host/module@(\d+\.\d+\.\d+)", value)
        if match is None:
            raise ValueError("must be trafi:host/module@<version>")
        if match.group(1) not in SUPPORTED_WIT_VERSIONS:
            raise ValueError(f"this host serves worlds {', '.join(SUPPORTED_WIT_VERSIONS)}")
        return value

    @field_validator("migrations")
    @classmethod
    def _migrations_relative(cls, value: str | None) -> str | None:
        return value if value is None else _check_relative(value)

    @model_validator(mode="after")
    def _no_self_dependency(self) -> Manifest:
        if self.name in self.dependencies:
            raise ValueError(f"module {self.name!r} lists itself in dependencies")
        return self

    @property
    def wit_version(self) -> str:
        return self.world.rsplit("@", 1)[1]
