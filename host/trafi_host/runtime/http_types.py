"""The HTTP call the runtime hands a module, and what comes back; no web framework here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    id: str
    kind: str = "api-key"
    # The caller's permissions in the called module's namespace, wildcards expanded
    # (the WIT record's `scopes`): what a handler checks a finer permission against.
    scopes: tuple[str, ...] = ()
    # Every permission the caller holds, core and every module's, wildcards expanded (the WIT
    # record's `permissions`, world 0.3.0+; an older world's principal has no such field).
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModuleRequest:
    method: str
    path: str
    tenant_id: str
    principal: Principal
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True)
class ModuleResponse:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    # Set when the host, not the module, produced this response.
    failure: str | None = None
    error_id: str | None = None

    @classmethod
    def host_error(
        cls,
        status: int,
        failure: str,
        message: str,
        error_id: str | None = None,
        retry_after: int | None = None,
    ) -> ModuleResponse:
        payload: dict[str, str] = {"error": message, "kind": failure}
        if error_id:
            payload["errorId"] = error_id
        headers: tuple[tuple[str, str], ...] = (("content-type", "application/json"),)
        if retry_after is not None:
            headers += (("retry-after", str(retry_after)),)
        return cls(
            status,
            headers,
            json.dumps(payload).encode(),
            failure=failure,
            error_id=error_id,
        )


@dataclass
class CallStats:
    calls: int = 0
    deadline_hits: int = 0  # 504s: the module's own code ran to its deadline
    overloads: int = 0  # deadlines the host's waiting used up (503 for HTTP): not the module's
    traps: int = 0
    init_failures: int = 0
    abandoned: int = 0  # calls abandoned at their deadline while blocked in a WASI or host call
    by_failure: dict[str, int] = field(default_factory=dict)
