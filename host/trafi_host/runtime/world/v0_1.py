"""`trafi:host/module@0.1.0`: the first released world (`wit/since_v0.1.0/`)."""

from __future__ import annotations

from typing import Any, ClassVar

import wasmtime
from wasmtime import component as wc

from ...wit_values import record
from ..body_caps import LIST_U8_CEILING, BodyCaps
from ..http_types import ModuleRequest, Principal
from .base import LiftedResponse, ModuleExports, WorldAdapter


class WorldV0_1(WorldAdapter):
    version: ClassVar[str] = "0.1.0"
    body_ceiling: ClassVar[BodyCaps | None] = LIST_U8_CEILING

    def exports(self, instance: wc.Instance, store: wasmtime.Store, module: str) -> ModuleExports:
        return ModuleExports(
            handle=self._required(instance, store, module, "http-handler", "handle"),
            init=self._required(instance, store, module, "lifecycle", "init"),
            destroy=self._required(instance, store, module, "lifecycle", "destroy"),
            service_names=self._required(instance, store, module, "services", "names"),
            service_call=self._required(instance, store, module, "services", "call"),
            event_handle=self._export(instance, store, module, "event-handler", "handle"),
        )

    def request(self, request: ModuleRequest) -> Any:
        return record(
            method=request.method,
            path=request.path,
            query=list(request.query),
            headers=list(request.headers),
            body=self.lower_body(request.body),
            tenant_id=request.tenant_id,
            principal=self.principal(request.principal),
        )

    def principal(self, principal: Principal) -> Any:
        return record(id=principal.id, kind=principal.kind, scopes=list(principal.scopes))

    def lower_body(self, body: bytes) -> Any:
        """A body as this world's type: `list<u8>` (wasmtime-py takes bytes for it)."""
        return body

    def lift_body(self, value: Any, what: str) -> bytes:
        return bytes(value)

    def lift_response(self, result: Any) -> LiftedResponse:
        # The fields by attribute: none of their WIT names has a dash to turn into kebab case.
        return LiftedResponse(
            status=int(result.status),
            headers=[(str(k), str(v)) for k, v in result.headers],
            body=self.lift_body(result.body, "the response body"),
        )

    def init_context(self, module: str, version: str, tenant: str) -> Any:
        return record(module_name=module, module_version=version, tenant_id=tenant)

    def lift_error(self, result: Any) -> str | None:
        # wasmtime-py lifts `result<_, string>` untagged: None is ok, a string is the error.
        if result is None:
            return None
        if isinstance(result, wc.Variant):
            return None if result.tag == "ok" else str(result.payload)
        return str(result)

    def lift_service(self, result: Any) -> tuple[bool, str]:
        # `result<string, string>` lifts tagged (both cases are strings).
        return result.tag == "ok", str(result.payload)
