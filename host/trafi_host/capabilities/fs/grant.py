"""`permissions.fs`: folders a module may open through WASI."""

from __future__ import annotations

from pydantic import Field, field_validator

from ...manifest.base import ManifestModel, Reason, RelativePath, check_relative


class PathGrant(ManifestModel):
    path: RelativePath
    reason: Reason

    _relative = field_validator("path")(check_relative)


class FsPermission(ManifestModel):
    read: list[PathGrant] = Field(default_factory=list, description="Module assets, read-only.")
    write: list[PathGrant] = Field(
        default_factory=list, description="Folders in the tenant's data folder, read-write."
    )
    write_quota_mb: int = Field(
        default=64,
        ge=1,
        le=4096,
        description="What one tenant's write folders may hold, in MiB. Past it the module's "
        "folders turn read-only for that tenant (an incident) until they are back under it.",
    )
