"""The generated bindings, when running inside a component.

componentize-py only bundles modules imported at top level during the build, so
the imports are here, at top level, and absent (None) in plain CPython.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

__all__ = [
    "BYTES_AS_TEXT",
    "WitErr",
    "bytes_from_wit",
    "bytes_to_wit",
    "error_value",
    "require",
    "wit_commerce",
    "wit_config",
    "wit_db",
    "wit_events",
    "wit_http",
    "wit_kv",
    "wit_log",
    "wit_metrics",
    "wit_routes",
    "wit_services",
    "wit_types",
    "wit_views",
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


wit_routes: ModuleType | None
wit_views: ModuleType | None
try:  # pragma: no cover - only in components built for the 0.3.0 world or newer
    from wit_world.exports import routes as wit_routes  # type: ignore[import-not-found,no-redef]
    from wit_world.exports import views as wit_views  # type: ignore[import-not-found,no-redef]
except ImportError:
    wit_routes = wit_views = None

# World 0.3.0 and newer carry bodies and kv values as WIT `bytes`: a string holding one byte per
# code point U+0000..U+00FF (latin-1), which crosses the component boundary as one copy.
BYTES_AS_TEXT = wit_routes is not None


def bytes_to_wit(value: bytes) -> Any:
    """Bytes as this component's world carries them: a latin-1 string (0.3.0+) or the bytes."""
    return bytes(value).decode("latin-1") if BYTES_AS_TEXT else value


def bytes_from_wit(value: Any) -> bytes:
    """Bytes from a WIT value of either world: a latin-1 string (0.3.0+) or a byte list."""
    return value.encode("latin-1") if isinstance(value, str) else bytes(value)


def error_value(err: WitErr) -> Any:
    """The WIT error value a host import answered with, once the `Err` has let go of its traceback.

    The bindings raise the `Err` they hold in a local variable, so the traceback's frame holds the
    exception that holds the traceback: a reference cycle on every error answer, which only the
    guest's collector frees. A `kv.get` of a missing key cost 15% more instructions than one of a
    present key, most of it in those collections.
    """
    err.with_traceback(None)
    return err.value


def require(binding: ModuleType | None, name: str) -> ModuleType:
    if binding is None:
        # Imported here, when it fails: an import statement runs the import machinery on every
        # call (every kv or db access, in the guest's CPython).
        from .errors import NotInComponent

        raise NotInComponent(f"trafi_sdk.{name} is only available inside a built component")
    return binding
