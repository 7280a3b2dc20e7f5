"""`trafi:host/http`: outgoing HTTP, only what the manifest's `permissions.network` allows."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

import httpx

from ...wit_values import field, record
from ..base import host_error, hostcall
from ..context import current_call
from .client import ResponseTooLarge, send_checked
from .policy import NetworkAllowlist, NetworkDenied

MAX_TIMEOUT_S = 10.0
MAX_RESPONSE_BYTES = 5 << 20
MAX_REQUEST_BYTES = 1 << 20


class HttpCapability:
    name: ClassVar[str] = "http"
    interface: ClassVar[str] = "trafi:host/http"

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {"send": hostcall("http.send", returns_result=True)(self.send)}

    def send(self, request: Any) -> Any:
        context = current_call()
        url = str(field(request, "url"))
        grants = context.grants.network
        if not grants:
            context.denied(f"http: no permissions.network for {url}")
            return host_error("access-denied", f"module {context.module} has no network permission")
        body = bytes(field(request, "body"))
        if len(body) > MAX_REQUEST_BYTES:
            return host_error("limit-exceeded", f"request body larger than {MAX_REQUEST_BYTES} bytes")
        timeout = min(int(field(request, "timeout_ms")) / 1000, MAX_TIMEOUT_S)
        if context.deadline is not None:
            timeout = min(timeout, max(0.05, context.deadline - time.monotonic()))
        try:
            response = send_checked(
                NetworkAllowlist(grants),
                str(field(request, "method")).upper(),
                url,
                [(str(k), str(v)) for k, v in field(request, "headers")],
                body,
                timeout,
                MAX_RESPONSE_BYTES,
            )
        except NetworkDenied as denied:
            context.denied(f"http: {denied}")
            return host_error("access-denied", str(denied))
        except ResponseTooLarge as error:
            return host_error("limit-exceeded", str(error))
        except httpx.TimeoutException:
            return host_error("unavailable", f"timed out after {timeout:.1f} s: {url}")
        except httpx.HTTPError as error:
            return host_error("unavailable", f"{type(error).__name__}: {error}")
        return record(status=response.status, headers=response.headers, body=response.body, url=response.url)
