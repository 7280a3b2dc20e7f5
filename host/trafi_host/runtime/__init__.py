"""The Wasm runtime: engine, artifact cache, linker, instance pool, deadline-bound calls."""

from .http_types import ModuleRequest, ModuleResponse, Principal
from .image import HostLimits, ModuleImage
from .module_runtime import ModuleRuntime

__all__ = ["HostLimits", "ModuleImage", "ModuleRequest", "ModuleResponse", "ModuleRuntime", "Principal"]
