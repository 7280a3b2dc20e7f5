"""What a module's HTTP response may say before it reaches the caller.

A module is not trusted with the HTTP connection: a status outside 200-599 (an
interim 1xx, a 101 switching protocols, 999) or a header uvicorn cannot write
used to kill the connection or be forwarded as is. Those are refused (a 502
and an incident). Headers that speak for the connection or for the whole
store are the host's and are dropped: framing and hop-by-hop headers, HSTS,
CORS (no capability grants it yet), and cookies set for another domain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MIN_STATUS, MAX_STATUS = 200, 599
RECYCLE_HEADER = "x-trafi-recycle"
MAX_HEADERS = 100
MAX_HEADER_BYTES = 16 << 10  # all names and values together
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
HOST_OWNED = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "content-length",
        "proxy-authenticate",
        "proxy-connection",
        "strict-transport-security",
        "alt-svc",
        # The guest SDK's request to retire its instance (see `recycle_requested`).
        RECYCLE_HEADER,
    }
)


def recycle_requested(headers: Iterable[tuple[str, str]]) -> str | None:
    """Why the guest asks the host to retire its instance (its SDK sets it after a MemoryError)."""
    return next((str(v) for k, v in headers if str(k).lower() == RECYCLE_HEADER), None)


class BadResponse(Exception):
    """The module's response cannot be forwarded; the message says what is wrong."""


def _cookie_domain(value: str) -> str | None:
    for attribute in value.split(";")[1:]:
        name, _, domain = attribute.strip().partition("=")
        if name.strip().lower() == "domain":
            return domain.strip().lstrip(".").lower()
    return None


def _domain_allowed(domain: str, request_host: str) -> bool:
    return request_host == domain or request_host.endswith("." + domain)


def checked_headers(
    headers: Iterable[tuple[str, str]], request_host: str
) -> tuple[tuple[tuple[str, str], ...], list[str]]:
    """The headers to forward, and the names dropped by the policy; BadResponse if malformed."""
    kept: list[tuple[str, str]] = []
    dropped: list[str] = []
    size = 0
    for count, (name, value) in enumerate(headers, start=1):
        if count > MAX_HEADERS:
            raise BadResponse(f"more than {MAX_HEADERS} headers")
        size += len(name) + len(value)
        if size > MAX_HEADER_BYTES:
            raise BadResponse(f"headers larger than {MAX_HEADER_BYTES} bytes")
        if not _TOKEN.match(name):
            raise BadResponse(f"header name {name[:40]!r} is not an HTTP token")
        if _BAD_VALUE.search(value):
            raise BadResponse(f"header {name!r} has a control character in its value")
        lower = name.lower()
        if lower in HOST_OWNED or lower.startswith(("access-control-", "proxy-")):
            dropped.append(lower)
            continue
        if lower == "set-cookie":
            domain = _cookie_domain(value)
            if domain is not None and not _domain_allowed(domain, request_host):
                dropped.append(f"set-cookie (Domain={domain})")
                continue
        kept.append((lower, value))
    return tuple(kept), dropped


def checked_status(status: int) -> int:
    if not MIN_STATUS <= status <= MAX_STATUS:
        raise BadResponse(f"status {status} is outside {MIN_STATUS}-{MAX_STATUS}")
    return status


def request_host(headers: Iterable[tuple[str, str]]) -> str:
    """The host name the caller addressed (no port), lower case; '' when absent."""
    for name, value in headers:
        if name.lower() == "host":
            host = value.strip().lower()
            return host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return ""


@dataclass(frozen=True)
class CheckedHeaders:
    """A module response's headers after the policy: what goes out, what was dropped (the guest's
    recycle request aside), and that recycle request if the guest made one."""

    kept: tuple[tuple[str, str], ...]
    dropped: tuple[str, ...]
    recycle: str | None


# A module answers most requests with the same few headers (`content-type: application/json`):
# the policy's verdict on a set of headers without a cookie depends on nothing else, so it is
# remembered. Bounded in entries and in the size of each, so a module varying its headers per
# response only misses.
_VERDICTS: dict[tuple[tuple[str, str], ...], CheckedHeaders] = {}
_VERDICTS_MAX = 256
_VERDICT_MAX_BYTES = 1024


def checked_response_headers(
    headers: Iterable[tuple[str, str]], request_headers: Iterable[tuple[str, str]]
) -> CheckedHeaders:
    """`checked_headers` and `recycle_requested` for one response to a request with
    `request_headers` (whose host decides the cookies allowed); BadResponse if malformed."""
    key = tuple(headers)
    verdict = _VERDICTS.get(key)
    if verdict is not None:
        return verdict
    sets_cookie = any(name.lower() == "set-cookie" for name, _ in key)
    kept, dropped = checked_headers(key, request_host(request_headers) if sets_cookie else "")
    verdict = CheckedHeaders(
        kept, tuple(d for d in dropped if d.lower() != RECYCLE_HEADER), recycle_requested(key)
    )
    if not sets_cookie and sum(len(name) + len(value) for name, value in key) <= _VERDICT_MAX_BYTES:
        if len(_VERDICTS) >= _VERDICTS_MAX:
            _VERDICTS.clear()
        _VERDICTS[key] = verdict
    return verdict
