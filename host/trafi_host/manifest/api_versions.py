"""The manifest's `apiVersions`: what the host tells callers of each version of a module's API.

A route's version is the first segment of its path (`/v1/...`). A version marked
deprecated gets `Deprecation` (RFC 9745) and, when given, `Sunset` (RFC 8594)
and a `successor-version` link on every response, and `deprecated: true` on its
operations in the OpenAPI document (docs/api.md).
"""

from __future__ import annotations

import datetime
from typing import Annotated

from pydantic import Field, model_validator

from .base import ManifestModel

VERSION_PATTERN = r"^v[1-9][0-9]*$"

ApiVersionName = Annotated[
    str,
    Field(pattern=VERSION_PATTERN, description="`v1`, `v2`...: the first segment of the version's paths."),
]


class ApiVersion(ManifestModel):
    description: str | None = Field(
        default=None, min_length=3, max_length=500, description="Shown on the version's OpenAPI tag."
    )
    deprecated: datetime.date | None = Field(
        default=None,
        description="The day (UTC) the version is or was deprecated, e.g. `2026-06-30`: sent as "
        "`Deprecation: @<unix time>` (RFC 9745, which carries a date, not a flag).",
    )
    sunset: datetime.date | None = Field(
        default=None,
        description="The day (UTC) the version is expected to stop answering: sent as `Sunset` "
        "(RFC 8594). Needs `deprecated`, on or before it.",
    )
    successor: ApiVersionName | None = Field(
        default=None,
        description='The version that replaces this one: a `Link: <...>; rel="successor-version"`. '
        "Needs `deprecated`.",
    )

    @model_validator(mode="after")
    def _deprecation_first(self) -> ApiVersion:
        if self.deprecated is None:
            given = [name for name in ("sunset", "successor") if getattr(self, name) is not None]
            if given:
                raise ValueError(
                    f"{' and '.join(given)} need `deprecated` (the day the version is deprecated)"
                )
            return self
        if self.sunset is not None and self.sunset < self.deprecated:
            raise ValueError(
                f"sunset {self.sunset} is before deprecated {self.deprecated}: RFC 9745 forbids a "
                "sunset earlier than the deprecation"
            )
        return self


def check_successors(versions: dict[str, ApiVersion]) -> dict[str, ApiVersion]:
    """A successor is another version, and following successors never comes back."""
    for name, version in versions.items():
        seen = [name]
        current = version
        while current.successor is not None:
            if current.successor in seen:
                chain = " -> ".join([*seen, current.successor])
                raise ValueError(
                    f"{name}: its successors come back to a version already in the chain ({chain})"
                )
            seen.append(current.successor)
            following = versions.get(current.successor)
            if following is None:
                break
            current = following
    return versions
