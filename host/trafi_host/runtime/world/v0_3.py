"""`trafi:host/module@0.3.0`: 0.2.0 plus the `routes` and `views` exports, the caller's
resolved permissions, and bodies as `bytes` (`wit/since_v0.3.0/`).

`bytes` is a string carrying one byte per code point U+0000..U+00FF: a string
crosses the component boundary as one copy where `list<u8>` costs a component
value per byte. Latin-1 is that mapping exactly, both ways; a code point above
U+00FF in what the module returns is refused (`BadValue`), never truncated.
"""

from __future__ import annotations

from typing import Any, ClassVar

import wasmtime
from wasmtime import component as wc

from ...wit_values import NotBytes, bytes_from_text, field, record, text_from_bytes
from ..body_caps import BodyCaps
from ..http_types import Principal
from .base import BadValue, ModuleExports
from .v0_2 import WorldV0_2


class WorldV0_3(WorldV0_2):
    version: ClassVar[str] = "0.3.0"
    required_exports: ClassVar[tuple[str, ...]] = ("lifecycle", "http-handler", "routes", "views")
    declares: ClassVar[bool] = True
    body_ceiling: ClassVar[BodyCaps | None] = None  # `bytes` crosses as one copy

    def exports(self, instance: wc.Instance, store: wasmtime.Store, module: str) -> ModuleExports:
        older = super().exports(instance, store, module)
        return ModuleExports(
            handle=older.handle,
            init=older.init,
            destroy=older.destroy,
            service_names=older.service_names,
            service_call=older.service_call,
            event_handle=older.event_handle,
            routes_declared=self._required(instance, store, module, "routes", "declared"),
            views_declared=self._required(instance, store, module, "views", "declared"),
            view_render=self._required(instance, store, module, "views", "render"),
        )

    def principal(self, principal: Principal) -> Any:
        return record(
            id=principal.id,
            kind=principal.kind,
            scopes=list(principal.scopes),
            permissions=list(principal.permissions),
        )

    def lower_body(self, body: bytes) -> Any:
        return text_from_bytes(body)

    def lift_body(self, value: Any, what: str) -> bytes:
        try:
            return bytes_from_text(str(value), what)
        except NotBytes as error:
            raise BadValue(str(error)) from None

    def lift_routes(self, result: Any) -> list[dict[str, Any]]:
        names = (
            "method",
            "path",
            "version",
            "summary",
            "description",
            "permission",
            "request_schema",
            "response_schema",
        )
        return [{name: field(route, name) for name in names} for route in result]

    def lift_views(self, result: Any) -> list[dict[str, Any]]:
        names = ("id", "title", "nav_label", "permission")
        return [{name: field(view, name) for name in names} for view in result]

    def view_request(
        self, view_id: str, query: tuple[tuple[str, str], ...], tenant: str, principal: Principal
    ) -> Any:
        return record(
            view_id=view_id, query=list(query), tenant_id=tenant, principal=self.principal(principal)
        )
