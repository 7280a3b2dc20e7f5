"""Typed request and response objects a module's handlers see.

Pure Python: no import of the generated bindings, so handlers can be unit-tested
in CPython without building a component.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _encode_ascii
from typing import Any


@dataclass(frozen=True)
class Principal:
    """Who is calling, resolved by the host from the API key (never from the request).

    `id` is the key's or user's stable id, `kind` "api-key", "user" or "system",
    `scopes` the caller's permissions in this module's namespace, `permissions`
    (world 0.3.0+) every permission it holds, core and other modules' included:

        if "reports:read" not in request.principal.scopes:
            return Response.error(403, "needs the reports:read scope")
    """

    id: str
    kind: str = "api-key"
    scopes: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Request:
    """One HTTP request to the module, below `/api/modules/<name>/<version>/`.

    `method`, `path` (below the module's prefix), `tenant_id` (from the API key),
    `principal`, `query` and `headers` (pairs, header names lower-cased), `body`
    (bytes) and `path_params` (the route pattern's `{names}`):

        @module.get("/v1/orders/{order}")
        def show(request: Request) -> Response:
            order_id = request.path_params["order"]
            return Response.json({"order": order_id, "tenant": request.tenant_id})
    """

    method: str
    path: str
    tenant_id: str
    principal: Principal
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    path_params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header `name` (any case), else `default`.

        Example:

            token = request.header("X-Signature", "")
        """
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return default

    def query_param(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter `name`, else `default` (always a string).

        Example:

            limit = int(request.query_param("limit") or 20)
        """
        for key, value in self.query:
            if key == name:
                return value
        return default

    def json(self) -> Any:
        """The body decoded as JSON; None for an empty body (invalid JSON raises ValueError).

        Example:

            data = request.json()
            rating = int(data["rating"])
        """
        return json.loads(self.body.decode("utf-8")) if self.body else None


def _wit_value(value: Any) -> Any:
    # Records from the host (an order, an event payload) are dataclasses; enums are WIT enums,
    # whose case names are the API's words (`OrderStatus.PENDING` -> "pending").
    if isinstance(value, enum.Enum):
        return value.name.lower().replace("_", "-")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# One encoder for every `Response.json`: `json.dumps` with arguments builds a new one each call.
_JSON = json.JSONEncoder(separators=(",", ":"), default=_wit_value)
_JSON_HEADERS = (("content-type", "application/json"),)
# The `_json` module's encoder (None in a CPython built without it; typeshed does not declare it).
_c_make_encoder: Callable[..., Any] | None = getattr(json.encoder, "c_make_encoder", None)


def _json_text(data: Any) -> str:
    """`_JSON.encode(data)`: the same C encoder its `iterencode` makes, called without that method's
    two Python frames and closure (every JSON response in the guest's CPython pays them). A new
    `markers` dict each call, as `iterencode` makes, so a circular value is still refused."""
    if _c_make_encoder is None:
        return _JSON.encode(data)
    encode = _c_make_encoder({}, _wit_value, _encode_ascii, None, ":", ",", False, False, True)
    return "".join(encode(data, 0))


@dataclass(frozen=True)
class Response:
    """What a handler returns: status, headers (pairs) and body (bytes).

    Usually made by `Response.json`, `Response.text` or `Response.error`;
    directly for anything else:

        return Response(204)
        return Response(200, (("content-type", "text/csv"),), b"id,total\n1,25\n")
    """

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        """`data` as JSON; WIT records (the SDK's dataclasses) and enums serialise as the host's API does.

        Example:

            return Response.json({"hits": count})
            return Response.json(commerce.get_order(order_id))  # a record: its fields
            return Response.json({"id": new_id}, status=201)
        """
        made = object.__new__(cls)
        # Filled in directly: a frozen dataclass's __init__ sets each field through
        # object.__setattr__, several times native cost in the guest's CPython, on every response.
        made.__dict__.update(status=status, headers=_JSON_HEADERS, body=_json_text(data).encode("utf-8"))
        return made

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        """Plain UTF-8 text.

        Example:

            return Response.text("ok")
        """
        return cls(status, (("content-type", "text/plain; charset=utf-8"),), text.encode("utf-8"))

    @classmethod
    def error(cls, status: int, message: str, **detail: Any) -> Response:
        """A JSON error `{"error": message, ...detail}` with `status`.

        Example:

            return Response.error(404, "no such review", review=review_id)
        """
        return cls.json({"error": message, **detail}, status=status)
