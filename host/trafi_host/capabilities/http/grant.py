"""`permissions.network`: the outgoing-HTTP allowlist, and its checks."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import Field

from ...manifest.base import ManifestModel, Reason

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")


class NetworkGrant(ManifestModel):
    host: str = Field(min_length=1, max_length=253, description="Exact host name or `*.example.com`.")
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(default_factory=lambda: [443])
    schemes: list[Literal["https", "http"]] = Field(default_factory=lambda: ["https"])  # type: ignore[arg-type]
    allow_private: bool = Field(
        default=False,
        description="May resolve to loopback or private addresses (an on-premise service). An IP "
        "literal host names its address explicitly and needs no flag. Link-local and cloud "
        "metadata addresses are never reachable.",
    )
    reason: Reason


def host_pattern_problem(host: str) -> str | None:
    """Why a `host` entry cannot mean what it says, or None."""
    text = host.strip().lower().rstrip(".")
    try:
        ipaddress.ip_address(text.strip("[]"))
        return None
    except ValueError:
        pass
    if "://" in text or "/" in text or ":" in text:
        return "is a host name only: put the scheme in `schemes` and the port in `ports`"
    if ("*" in text and not text.startswith("*.")) or text.count("*") > 1:
        return "may only use a wildcard as a leading `*.` label, e.g. `*.example.com`"
    if not _HOST.match(text):
        return "is not a valid host name"
    if text.startswith("*.") and "." not in text[2:]:
        return "is a wildcard over a whole top-level domain; name the organisation's domain"
    return None
