"""Typed request and response objects a module's handlers see.

Pure Python: no import of the generated bindings, so handlers can be unit-tested
in CPython without building a component.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Principal:
    id: str
    kind: str = "api-key"
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    tenant_id: str
    principal: Principal
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    path_params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return default

    def query_param(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass(frozen=True)
class Response:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        body = json.dumps(data, separators=(",", ":")).encode("utf-8")
        return cls(status, (("content-type", "application/json"),), body)

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status, (("content-type", "text/plain; charset=utf-8"),), text.encode("utf-8"))

    @classmethod
    def error(cls, status: int, message: str, **detail: Any) -> Response:
        return cls.json({"error": message, **detail}, status=status)
