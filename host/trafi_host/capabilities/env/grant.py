"""`permissions.env`: environment variables a module may read, by name."""

from __future__ import annotations

from pydantic import Field

from ...manifest.base import ManifestModel, Reason

ENV_PATTERN = r"^[A-Z][A-Z0-9_]*$"


class EnvGrant(ManifestModel):
    name: str = Field(
        pattern=ENV_PATTERN, description="Variable name; its value comes from the operator's config."
    )
    reason: Reason
