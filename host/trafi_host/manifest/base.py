"""What every part of the manifest shares: the strict base model and the common field types.

Capabilities define their own manifest sections (`permissions.<key>`) on these,
so this module imports nothing of the host above it.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Reason = Annotated[
    str,
    Field(min_length=3, max_length=500, description="Why the module needs this; shown to reviewers."),
]
RelativePath = Annotated[
    str,
    Field(min_length=1, description="A path relative to the module's folder, inside it."),
]


class ManifestModel(BaseModel):
    """Strict base: unknown keys are errors, JSON keys are camelCase."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
    )


def check_relative(path: str) -> str:
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", path):
        raise ValueError("must be relative to the module folder, not absolute")
    if ".." in re.split(r"[\\/]", path):
        raise ValueError("must stay inside the module folder (no '..')")
    return path


class Grant(ManifestModel):
    """A permission with nothing to configure but why it is needed."""

    reason: Reason


class PermissionsBase(ManifestModel):
    """What the module asks for. Nothing here means nothing granted.

    The concrete model is assembled from the capability registry
    (`capabilities.registry.permissions_model`): one key per capability that has
    a manifest section, so a key with no capability behind it cannot exist.
    """
