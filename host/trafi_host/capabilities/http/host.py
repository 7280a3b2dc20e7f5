"""`trafi:host/http`: outgoing HTTP, only what the manifest's `permissions.network` allows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

import httpx

from ...manifest.base import PermissionsBase
from ...validation.findings import Finding
from ...wit_values import NotBytes, bytes_as_text, bytes_from_text, field, record, text_from_bytes
from ..base import Capability, HostFunction, InstanceFacts, PermissionSection, host_error, hostcall
from ..call import current_call
from .client import ResponseTooLarge, send_checked
from .grant import NetworkGrant, host_pattern_problem
from .policy import NetworkAllowlist, NetworkDenied

if TYPE_CHECKING:
    from ...manifest.model import Manifest

MAX_TIMEOUT_S = 10.0
# What crosses back into the guest in one call as `list<u8>` (BOUNDARY_BYTES, runtime/body_caps.py).
MAX_RESPONSE_BYTES = 1536 << 10
MAX_REQUEST_BYTES = 1 << 20


@dataclass(frozen=True)
class HttpState:
    allowlist: NetworkAllowlist | None  # None: no network granted


class HttpCapability(Capability[HttpState]):
    name: ClassVar[str] = "http"
    interface: ClassVar[str | None] = "trafi:host/http"
    section: ClassVar[PermissionSection | None] = PermissionSection(
        "network",
        list[NetworkGrant],
        "Outgoing HTTP allowlist: `host` (exact, an IP literal, or `*.example.com`), `ports` "
        '(default `[443]`), `schemes` (default `["https"]`), `allowPrivate` (default false: names '
        "resolving to loopback or private addresses are refused unless the entry names the IP "
        "itself or sets this; link-local and cloud metadata addresses never), `reason`. "
        "The whole exchange (redirects and body included) is capped in time; framing and "
        "hop-by-hop headers are the host's, and credentials are not sent across origins on a "
        "redirect. Granting it builds the module for the "
        "`module-with-network` world.",
        default_factory=list,
    )
    gates_import = True
    base_world = False  # only the `module-with-network` world imports it
    summary: ClassVar[str] = (
        "Outgoing HTTP through the host, only to the hosts, schemes and ports granted; "
        "private addresses refused."
    )

    def grant(self, permissions: PermissionsBase) -> list[NetworkGrant]:
        return cast("list[NetworkGrant]", super().grant(permissions))

    def permission_items(self, grant: Any) -> dict[str, str]:
        items: dict[str, str] = {}
        for entry in grant or []:
            private = " (private addresses allowed)" if entry.allow_private else ""
            for scheme in entry.schemes:
                for port in entry.ports:
                    items[f"network: {scheme}://{entry.host}:{port}{private}"] = entry.reason
        return items

    def configure(self, manifest: Manifest, folder: Path) -> list[Finding]:
        findings = []
        for index, entry in enumerate(self.grant(manifest.permissions)):
            problem = host_pattern_problem(entry.host)
            if problem is not None:
                findings.append(
                    self.grant_finding("TRF-C001", f"[{index}].host", f"{entry.host!r} {problem}")
                )
        return findings

    def prepare(self, facts: InstanceFacts) -> HttpState:
        grants = self.grant(facts.permissions)
        return HttpState(NetworkAllowlist(list(grants)) if grants else None)

    def functions(self) -> dict[str, HostFunction]:
        return {"send": hostcall("http.send", returns_result=True)(self.send)}

    def functions_for(self, version: str) -> dict[str, HostFunction]:
        if not bytes_as_text(version):
            return self.functions()
        return {"send": hostcall("http.send", returns_result=True)(self.send_text)}

    def send_text(self, request: Any) -> Any:
        """`send` for world 0.3.0+: request and response bodies are WIT `bytes` strings."""
        return self.send(request, bodies_as_text=True)

    def send(self, request: Any, bodies_as_text: bool = False) -> Any:
        context = current_call()
        allowlist = self.state(context).allowlist
        url = str(field(request, "url"))
        if allowlist is None:
            context.denied(f"http: no permissions.network for {url}")
            return host_error("access-denied", f"module {context.module} has no network permission")
        if bodies_as_text:
            try:
                body = bytes_from_text(str(field(request, "body")), "the request body")
            except NotBytes as error:
                return host_error("invalid-argument", str(error))
        else:
            body = bytes(field(request, "body"))
        if len(body) > MAX_REQUEST_BYTES:
            return host_error("limit-exceeded", f"request body larger than {MAX_REQUEST_BYTES} bytes")
        timeout = min(int(field(request, "timeout_ms")) / 1000, MAX_TIMEOUT_S)
        if context.deadline is not None:
            timeout = min(timeout, max(0.05, context.deadline - time.monotonic()))
        try:
            response = send_checked(
                allowlist,
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
        answer = text_from_bytes(response.body) if bodies_as_text else response.body
        return record(status=response.status, headers=response.headers, body=answer, url=response.url)
