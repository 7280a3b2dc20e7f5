"""The request headers a module is handed: the caller's, without its credentials.

A module acts for the tenant the host authenticated; it never needs, and must never
see, what the caller proved it with: the API key (`authorization`, `x-api-key`),
a proxy's credentials, or any cookie (the dashboard's session cookie among them).
A module that logged or forwarded them would leak a key to whoever reads its logs
or its outgoing calls. docs/security.md lists them.
"""

from __future__ import annotations

from collections.abc import Iterable

# Lowercase, as Starlette hands header names over.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def forwarded_headers(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """`headers` without the caller's credentials, every other one (repeated ones too) in order."""
    return tuple((name, value) for name, value in headers if name.lower() not in CREDENTIAL_HEADERS)
