"""What a WIT world version means to the host: its export names and how values lower and lift.

One adapter per released `trafi:host/module@<version>` world (Zed's shape):
the call path asks the adapter, never spells an export name or a value's shape
itself (a body as `list<u8>` or as bytes in a string, a principal with or without
permissions), so a new world version is one new file beside the old ones.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import wasmtime
from wasmtime import component as wc

from ...errors import ComponentError
from ..body_caps import BodyCaps
from ..http_types import ModuleRequest, Principal


@dataclass(frozen=True)
class ModuleExports:
    """The functions the host calls on one instance, looked up once."""

    handle: wc.Func
    init: wc.Func
    destroy: wc.Func
    service_names: wc.Func
    service_call: wc.Func
    # Optional: a component built before event-handler joined the world still loads.
    event_handle: wc.Func | None
    # World 0.3.0 and newer (required there); None for a world that declares nothing.
    routes_declared: wc.Func | None = None
    views_declared: wc.Func | None = None
    view_render: wc.Func | None = None


@dataclass(frozen=True)
class LiftedResponse:
    """An `http-response` as Python values, whatever the world's body type."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class BadValue(Exception):
    """A value the module returned that its world's type admits but the host refuses
    (a code point above U+00FF in a `bytes` string); the message says which and where."""


class WorldAdapter(ABC):
    version: ClassVar[str]
    # Export interfaces a component must have for the host to serve it.
    required_exports: ClassVar[tuple[str, ...]] = ("lifecycle", "http-handler")
    # Interfaces of the world that hold only types (nothing to link).
    type_interfaces: ClassVar[tuple[str, ...]] = ("types",)

    @property
    def world(self) -> str:
        return f"trafi:host/module@{self.version}"

    def _export(
        self, instance: wc.Instance, store: wasmtime.Store, module: str, interface: str, function: str
    ) -> wc.Func | None:
        name = f"trafi:host/{interface}@{self.version}"
        index = instance.get_export_index(store, name)
        func_index = None if index is None else instance.get_export_index(store, function, index)
        return None if func_index is None else instance.get_func(store, func_index)

    def _required(
        self, instance: wc.Instance, store: wasmtime.Store, module: str, interface: str, function: str
    ) -> wc.Func:
        func = self._export(instance, store, module, interface, function)
        if func is None:
            raise ComponentError(
                f"module {module}: component does not export trafi:host/{interface}@{self.version}"
                f"#{function}; is it built for the {self.world} world?"
            )
        return func

    @abstractmethod
    def exports(self, instance: wc.Instance, store: wasmtime.Store, module: str) -> ModuleExports: ...

    @abstractmethod
    def request(self, request: ModuleRequest) -> Any:
        """The WIT value of an incoming HTTP request."""

    @abstractmethod
    def lift_response(self, result: Any) -> LiftedResponse:
        """The handler's `http-response`; BadValue when its body is not bytes."""

    # The most a body of this world's type can carry in one call, whatever the operator
    # configures (runtime/body_caps.py); None: the body crosses as one copy, the caps are the config's.
    body_ceiling: ClassVar[BodyCaps | None] = None

    # What the module declares (world 0.3.0+): an older world declares nothing.
    declares: ClassVar[bool] = False

    def lift_routes(self, result: Any) -> list[dict[str, Any]]:
        """`routes.declared`'s list as one dict per route (snake_case WIT field names)."""
        raise ComponentError(f"world {self.version} declares no routes (only 0.3.0 and newer do)")

    def lift_views(self, result: Any) -> list[dict[str, Any]]:
        """`views.declared`'s list as one dict per view (snake_case WIT field names)."""
        raise ComponentError(f"world {self.version} declares no views (only 0.3.0 and newer do)")

    def view_request(
        self, view_id: str, query: tuple[tuple[str, str], ...], tenant: str, principal: Principal
    ) -> Any:
        """The WIT value of a `views.render` request."""
        raise ComponentError(f"world {self.version} has no views (only 0.3.0 and newer do)")

    @abstractmethod
    def init_context(self, module: str, version: str, tenant: str) -> Any: ...

    @abstractmethod
    def lift_error(self, result: Any) -> str | None:
        """A `result<_, string>` as the error text, or None when ok."""

    @abstractmethod
    def lift_service(self, result: Any) -> tuple[bool, str]:
        """A `result<string, string>` as (ok, text)."""
