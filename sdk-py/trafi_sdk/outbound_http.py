"""Outgoing HTTP through the host, which enforces the manifest's `permissions.network`.

A module without a network grant is built without the host's http import, and
`fetch` says so; with one, every request (and every redirect) is checked by the
host against the allowlist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import _bindings
from .errors import AccessDenied, from_wit


@dataclass(frozen=True)
class FetchResponse:
    """What `fetch` got: `status`, `headers` (lower-cased pairs), `body` (bytes), `url` (after redirects).

    Example:

        answer = fetch("https://api.example.com/rates")
        if answer.status == 200:
            rates = answer.json()
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    url: str

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header `name` (any case), else `default`.

        Example:

            kind = answer.header("content-type", "")
        """
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), default)

    def json(self) -> Any:
        """The body decoded as JSON.

        Example:

            data = fetch("https://api.example.com/rates").json()
        """
        return json.loads(self.body.decode("utf-8"))


def fetch(
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout_ms: int = 5000,
) -> FetchResponse:
    """Send a request; raises AccessDenied, LimitExceeded or Unavailable from the host.

    Only to what the manifest's `permissions.network` allows (every redirect is checked
    again); a module without a network grant gets `AccessDenied`.

        answer = fetch(
            "https://api.example.com/v1/quotes",
            method="POST",
            headers={"content-type": "application/json"},
            body=json.dumps({"zip": "75001"}).encode(),
            timeout_ms=2000,
        )
    """
    wit_http = _bindings.wit_http
    if wit_http is None:
        if _bindings.wit_types is None:
            _bindings.require(None, "fetch")
        raise AccessDenied("this module has no network permission: add permissions.network and rebuild")
    request = wit_http.OutgoingRequest(
        method=method.upper(),
        url=url,
        headers=[(key.lower(), value) for key, value in (headers or {}).items()],
        body=_bindings.bytes_to_wit(body),
        timeout_ms=timeout_ms,
    )
    try:
        response = wit_http.send(request)
    except _bindings.WitErr as err:
        raise from_wit(_bindings.error_value(err)) from None
    body_received = _bindings.bytes_from_wit(response.body)
    return FetchResponse(response.status, tuple(response.headers), body_received, response.url)
