"""What a WIT world version means to the host: its export names and how results lift.

One adapter per released `trafi:host/module@<version>` world (Zed's shape):
the call path asks the adapter, never spells an export name or a result shape
itself, so a new world version is one new file beside the old ones.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import wasmtime
from wasmtime import component as wc

from ...errors import ComponentError
from ..http_types import ModuleRequest


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
    def init_context(self, module: str, version: str, tenant: str) -> Any: ...

    @abstractmethod
    def lift_error(self, result: Any) -> str | None:
        """A `result<_, string>` as the error text, or None when ok."""

    @abstractmethod
    def lift_service(self, result: Any) -> tuple[bool, str]:
        """A `result<string, string>` as (ok, text)."""
