"""Typed request and response objects a module's handlers see.

Pure Python: no import of the generated bindings, so handlers can be unit-tested
in CPython without building a component.
"""

from __future__ import annotations

import dataclasses
import enum
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


def _wit_value(value: Any) -> Any:
    # Records from the host (an order, an event payload) are dataclasses; enums are WIT enums,
    # whose case names are the API's words (`OrderStatus.PENDING` -> "pending").
    if isinstance(value, enum.Enum):
        return value.name.lower().replace("_", "-")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


@dataclass(frozen=True)
class Response:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        """`data` as JSON; WIT records (the SDK's dataclasses) and enums serialise as the host's API does."""
        body = json.dumps(data, separators=(",", ":"), default=_wit_value).encode("utf-8")
        return cls(status, (("content-type", "application/json"),), body)

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status, (("content-type", "text/plain; charset=utf-8"),), text.encode("utf-8"))

    @classmethod
    def error(cls, status: int, message: str, **detail: Any) -> Response:
        return cls.json({"error": message, **detail}, status=status)
