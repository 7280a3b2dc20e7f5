"""`trafi-module.json`: the pydantic models are the single definition.

The JSON Schema in `docs/manifest.schema.json` is generated from these models,
and a test fails when the committed file differs.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

import nodesemver
import semver
from license_expression import get_spdx_licensing
from pydantic import ConfigDict, Field, create_model, field_validator, model_validator

from ..auth.permissions import CORE_NAMESPACES as CORE_PERMISSION_NAMESPACES
from ..auth.permissions import MODULE_USE, PERMISSION_PATTERN
from ..capabilities.commerce.grant import SCOPE_PATTERN, ScopeGrant
from ..capabilities.env.grant import ENV_PATTERN, EnvGrant
from ..capabilities.fs.grant import FsPermission, PathGrant
from ..capabilities.http.grant import NetworkGrant
from ..capabilities.kv.grant import KvGrant
from ..capabilities.metrics.declarations import MetricDeclaration
from ..capabilities.registry import ALL, Capabilities, permissions_model
from ..events.catalogue import RESERVED_NAMESPACES
from ..rate_limits.rate import RateText
from ..version import DEFAULT_WIT_VERSION, SUPPORTED_WIT_VERSIONS
from .api_versions import ApiVersion, ApiVersionName, check_successors
from .base import Grant, ManifestModel, PermissionsBase, Reason, RelativePath, check_relative
from .config_schema import RENAMED_FROM, check_config_schema

MANIFEST_FILE = "trafi-module.json"

NAME_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
EVENT_PATTERN = r"^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$"

ModuleName = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        min_length=1,
        max_length=64,
        description="Lowercase kebab-case, e.g. `loyalty-points`.",
    ),
]

ApiPermissionName = Annotated[
    str,
    Field(pattern=PERMISSION_PATTERN, max_length=200, description="`<module>:<action>`, lowercase."),
]
ApiPermissionDescription = Annotated[
    str, Field(min_length=3, max_length=200, description="What the permission allows; shown to operators.")
]

_licensing = get_spdx_licensing()

# The manifest's `permissions`: one key per capability in the registry.
if TYPE_CHECKING:
    Permissions = PermissionsBase
else:
    Permissions = permissions_model()


class EntryPoints(ManifestModel):
    backend: RelativePath = Field(description="The built WebAssembly component, e.g. `dist/hello.wasm`.")

    _relative = field_validator("backend")(check_relative)


class BuildSettings(ManifestModel):
    """How `trafi module build` turns the Python source into the component."""

    python_module: str = Field(
        default="app",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$",
        description="The module's Python entry module, imported at build time.",
    )
    source_dir: RelativePath = Field(default=".", description="Folder holding the Python source.")

    _relative = field_validator("source_dir")(check_relative)


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
        default=f"trafi:host/module@{DEFAULT_WIT_VERSION}",
        description=(
            "The WIT world the component targets. Without it, the first world "
            f"({DEFAULT_WIT_VERSION}); the module database and metrics need 0.2.0, declared "
            "routes, dashboard views and bodies at copy speed 0.3.0 (what `trafi module new` writes)."
        ),
    )
    entry: EntryPoints
    build: BuildSettings = Field(default_factory=BuildSettings)
    permissions: Permissions = Field(default_factory=Permissions)
    events: list[EventSubscription] = Field(default_factory=list, description="Event subscriptions.")
    dependencies: dict[ModuleName, str] = Field(
        default_factory=dict, description="Other modules this one needs: name to semver range."
    )
    limits: Limits = Field(default_factory=Limits)
    rate_limit: RateText | None = Field(
        default=None,
        description="The most requests one tenant may make to the module's routes, e.g. "
        "`120/minute` (a moving window; see docs/rate-limits.md). The operator's "
        "`trafi ratelimit set` overrides it; without it, the project's `host.rateLimit`.",
    )
    migrations: RelativePath = Field(
        default="migrations",
        description="The folder of the module's database migrations (`NNNN_name.up.sql` and "
        "`.down.sql` pairs, and/or a `schema.prisma` fragment); see docs/database.md.",
    )
    _relative_migrations = field_validator("migrations")(check_relative)
    metrics: list[MetricDeclaration] = Field(
        default_factory=list,
        description="Metrics the module records (world 0.2.0): see docs/metrics.md.",
    )
    api_permissions: dict[ApiPermissionName, ApiPermissionDescription] = Field(
        default_factory=dict,
        description="Permissions the module's API checks besides `<module>:use` (which every one of "
        "its routes requires): `<module>:<action>` to what it allows, e.g. "
        '`{"reviews:moderate": "Hide or restore any review"}`. Roles and API key scopes grant '
        "them; the module sees the caller's in `principal.scopes`. See docs/users-and-roles.md.",
    )
    api_versions: dict[ApiVersionName, ApiVersion] = Field(
        default_factory=dict,
        description="What callers are told of each version of the module's API (world 0.3.0 routes "
        "carry their version, the first path segment): e.g. "
        '`{"v1": {"deprecated": "2026-06-30", "sunset": "2027-06-30", "successor": "v2"}}` adds '
        "`Deprecation`, `Sunset` and a successor-version `Link` to v1's responses. See docs/api.md.",
    )
    config_schema: dict[str, Any] | None = Field(
        default=None,
        description="JSON Schema (draft 2020-12) of the module's settings (`modules.<name>.config`): "
        "checked on install, update and `trafi module config`; a property's `default` fills a "
        f"missing key, `{RENAMED_FROM}` names the key it replaces (docs/updating.md).",
    )

    @field_validator("api_versions")
    @classmethod
    def _successors(cls, value: dict[str, ApiVersion]) -> dict[str, ApiVersion]:
        return check_successors(value)

    @field_validator("config_schema")
    @classmethod
    def _config_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else check_config_schema(value)

    @field_validator("name")
    @classmethod
    def _not_a_core_namespace(cls, value: str) -> str:
        if value in CORE_PERMISSION_NAMESPACES:
            raise ValueError(
                f"{value!r} is reserved: `{value}:...` permissions are the core's, and a module's "
                "permissions are `<module>:...`; choose another name"
            )
        if value in RESERVED_NAMESPACES:
            raise ValueError(
                f"{value!r} is reserved: module events are named `<module>.<event>`, and "
                f"{value}.* events are the core's; choose another name"
            )
        return value

    @model_validator(mode="after")
    def _own_permissions(self) -> Manifest:
        for permission in self.api_permissions:
            namespace, action = permission.split(":")
            if namespace != self.name:
                raise ValueError(
                    f"apiPermissions: {permission!r} must be in the module's own namespace "
                    f"({self.name}:<action>)"
                )
            if action == MODULE_USE:
                raise ValueError(
                    f"apiPermissions: {permission!r} is implicit (every route requires it); leave it out"
                )
        return self

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

    @model_validator(mode="after")
    def _no_self_dependency(self) -> Manifest:
        if self.name in self.dependencies:
            raise ValueError(f"module {self.name!r} lists itself in dependencies")
        return self

    @property
    def wit_version(self) -> str:
        return self.world.rsplit("@", 1)[1]


# Keys a later capability will own: refused with a plain "not supported" rather than
# accepted and ignored (a manifest must never ask for something nothing enforces).
NOT_YET_SUPPORTED: dict[tuple[str, ...], str] = {
    ("entry", "dashboard"): "dashboard views",
}


@functools.cache
def _manifest_model(permissions: type[PermissionsBase]) -> type[Manifest]:
    return create_model(
        "Manifest",
        __base__=Manifest,
        permissions=(permissions, Field(default_factory=permissions)),
    )


def manifest_model(capabilities: Capabilities = ALL) -> type[Manifest]:
    """The manifest model for a host composed of `capabilities` (the registry's by default)."""
    permissions = permissions_model(capabilities)
    return Manifest if permissions is Permissions else _manifest_model(permissions)


__all__ = [
    "ENV_PATTERN",
    "EVENT_PATTERN",
    "MANIFEST_FILE",
    "NAME_PATTERN",
    "NOT_YET_SUPPORTED",
    "SCOPE_PATTERN",
    "ApiVersion",
    "BuildSettings",
    "EntryPoints",
    "EnvGrant",
    "EventSubscription",
    "FsPermission",
    "Grant",
    "KvGrant",
    "Limits",
    "Manifest",
    "ModuleName",
    "NetworkGrant",
    "PathGrant",
    "Permissions",
    "Reason",
    "ScopeGrant",
    "manifest_model",
]
