"""The headers a response of a deprecated API version carries (RFC 9745, RFC 8594, RFC 5829).

`Deprecation: @<unix time>` (a Structured Field Date: the start, UTC, of the
manifest's `deprecated` day), `Sunset: <HTTP-date>` (the start of its `sunset`
day) and `Link: <url>; rel="successor-version"`. The link names the successor's
route of the same method and shape when it declares one (the request's
parameters filled in), and otherwise the successor's section of the API docs.
"""

from __future__ import annotations

import calendar
import datetime
from email.utils import formatdate
from urllib.parse import quote

from ..manifest.api_versions import ApiVersion
from .table import RouteMatch, RouteTable


def _start_of(day: datetime.date) -> int:
    return calendar.timegm(day.timetuple())


def module_prefix(module: str) -> str:
    return f"/api/modules/{module}"


def version_tag(module: str, version: str) -> str:
    """The OpenAPI tag of one version of a module's API (`points v1`), or the module's own."""
    return f"{module} {version}" if version else module


def deprecation_headers(
    module: str, versions: dict[str, ApiVersion], table: RouteTable, match: RouteMatch
) -> list[tuple[str, str]]:
    """What to add to the response of `match`; nothing when its version is not deprecated."""
    version = versions.get(match.route.version)
    if version is None or version.deprecated is None:
        return []
    headers = [("Deprecation", f"@{_start_of(version.deprecated)}")]
    if version.sunset is not None:
        headers.append(("Sunset", formatdate(_start_of(version.sunset), usegmt=True)))
    if version.successor is not None:
        headers.append(
            ("Link", f'<{_successor_url(module, version.successor, table, match)}>; rel="successor-version"')
        )
    return headers


def _successor_url(module: str, successor: str, table: RouteTable, match: RouteMatch) -> str:
    current = match.route.version
    rest = match.pattern.text.removeprefix(f"/{current}")
    candidate = f"/{successor}{rest}"
    entry = table.find(match.route.method, candidate)
    if entry is not None:
        # The successor's own parameter names, filled positionally from this request's values.
        values = [quote(value, safe="") for value in match.parameters.values()]
        names = [name for segment in entry.pattern.segments for name in segment.names]
        return module_prefix(module) + entry.pattern.filled(dict(zip(names, values, strict=False)))
    return "/docs#/" + quote(version_tag(module, successor))
