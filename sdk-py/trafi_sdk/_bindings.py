"""The generated bindings, when running inside a component.

componentize-py only bundles modules imported at top level during the build, so
the imports are here, at top level, and absent (None) in plain CPython.
"""

from __future__ import annotations

from types import ModuleType

__all__ = [
    "WitErr",
    "require",
    "wit_commerce",
    "wit_config",
    "wit_db",
    "wit_events",
    "wit_http",
    "wit_kv",
    "wit_log",
    "wit_metrics",
    "wit_services",
    "wit_types",
]

wit_config: ModuleType | None
wit_kv: ModuleType | None
wit_log: ModuleType | None
wit_types: ModuleType | None
wit_services: ModuleType | None
wit_events: ModuleType | None
wit_commerce: ModuleType | None
try:  # pragma: no cover - only true inside a built component
    from componentize_py_types import Err as WitErr  # type: ignore[import-not-found]
    from wit_world.imports import commerce as wit_commerce  # type: ignore[import-not-found,no-redef]
    from wit_world.imports import config as wit_config  # type: ignore[import-not-found,no-redef]
    from wit_world.imports import events as wit_events  # type: ignore[import-not-found,no-redef]
    from wit_world.imports import kv as wit_kv  # type: ignore[import-not-found,no-redef]
    from wit_world.imports import log as wit_log  # type: ignore[import-not-found,no-redef]
    from wit_world.imports import service_client as wit_services  # type: ignore[import-not-found,no-redef]
    from wit_world.imports import types as wit_types  # type: ignore[import-not-found,no-redef]
except ImportError:
    wit_config = wit_kv = wit_log = wit_types = wit_services = wit_events = wit_commerce = None

    class WitErr(Exception):  # type: ignore[no-redef]
        value: object


wit_http: ModuleType | None
try:  # pragma: no cover - only in components built for the module-with-network world
    from wit_world.imports import http as wit_http  # type: ignore[import-not-found,no-redef]
except ImportError:
    wit_http = None


wit_db: ModuleType | None
wit_metrics: ModuleType | None
try:  # pragma: no cover - only in components built for the 0.2.0 world or newer
    from wit_world.imports import db as wit_db  # type: ignore[import-not-found,no-redef]
    from wit_world.imports import metrics as wit_metrics  # type: ignore[import-not-found,no-redef]
except ImportError:
    wit_db = wit_metrics = None


def require(binding: ModuleType | None, name: str) -> ModuleType:
    from .errors import NotInComponent

    if binding is None:
        raise NotInComponent(f"trafi_sdk.{name} is only available inside a built component")
    return binding
