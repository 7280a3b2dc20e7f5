"""Thread-safety fixes for wasmtime-py's component value conversion (wasmtime 50.0.1).

The host calls wasm from several worker threads at once (one Store per thread at
a time, which wasmtime allows), but wasmtime-py keeps two pieces of per-call
state in module globals:

- `component._types.case_test_cache`: a set `VariantLikeType._lower` clears and
  refills to pick the case of a `result`/`option`/`variant` value. Two threads
  lowering at once corrupt each other's set, and a correct host function result
  fails with "expected bytes value" or lowers as the wrong case.
- `component._enter.LAST_EXCEPTION`: the Python exception a host function raised,
  handed to whichever thread next leaves wasm with an error.

`apply()` replaces both with per-call and per-thread state. The replacements
follow the library's own code line for line; `tests/host/runtime/
test_wasmtime_threading.py` fails without them. Pinned to the wasmtime version
they were written against (`wasmtime_fixes.CHECKED_VERSIONS`).
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Any

from wasmtime import StoreContext, WasmtimeError
from wasmtime import _ffi as ffi
from wasmtime.component import _enter, _func, _linker, _resources, _types

_state = threading.local()
_applied = False


def _case_classes(variant: Any, name: str, ty: Any) -> tuple[type, ...]:
    """The Python classes a case accepts; computed once per type object, never shared."""
    cache: dict[str, tuple[type, ...]] = variant.__dict__.setdefault("_trafi_case_classes", {})
    classes = cache.get(name)
    if classes is None:
        found: set[type] = set()  # the library shares one global set between threads
        ty.add_classes(found)
        classes = cache[name] = tuple(found)
    return classes


def _lower(self: Any, store: Any, val: Any) -> tuple[str, Any]:
    tagged = self._tagged()
    if tagged and not isinstance(val, _types.Variant):
        raise TypeError("expected Variant type")
    for name, ty in self._cases():
        if tagged:
            if name != val.tag:
                continue
        elif ty is None:
            if val is not None:
                continue
        else:
            if not isinstance(val, _case_classes(self, name, ty)):
                continue
        if ty is None:
            return (name, None)
        raw = ffi.wasmtime_component_val_t()
        payload = val.payload if tagged else val
        ty.convert_to_c(store, payload, ctypes.pointer(raw))
        return (name, ffi.wasmtime_component_val_new(ctypes.byref(raw)))
    raise ValueError("value not valid for this variant")


def _catch_exceptions(store_raw: Any, func: Callable[[StoreContext], None]) -> Any:
    store = StoreContext(store_raw)
    exception = None
    try:
        func(store)
    except WasmtimeError as error:
        exception = error
    except Exception as error:  # noqa: BLE001 - handed back to this thread's caller
        _state.last_exception = error
        exception = WasmtimeError("python exception")
    finally:
        store._invalidate()
    if exception:
        return ctypes.cast(exception._consume(), ctypes.c_void_p).value
    return 0


def remember_exception(error: BaseException) -> None:
    """What a host function raised, for this thread's caller (the C boundary's imports use it)."""
    _state.last_exception = error


def _maybe_raise_last_exn() -> None:
    error = getattr(_state, "last_exception", None)
    if error is None:
        return
    _state.last_exception = None
    raise error


def _enter_wasm(func: Callable[[], Any]) -> None:
    pointer = func()
    if pointer:
        error = WasmtimeError._from_ptr(pointer)
        _maybe_raise_last_exn()
        raise error


def apply() -> None:
    global _applied
    if _applied:
        return
    _types.VariantLikeType._lower = _lower  # type: ignore[method-assign]
    for module in (_enter, _func, _resources):
        if hasattr(module, "enter_wasm"):
            module.enter_wasm = _enter_wasm  # type: ignore[attr-defined]
    _enter.maybe_raise_last_exn = _maybe_raise_last_exn
    _enter.catch_exceptions = _catch_exceptions
    _linker.catch_exceptions = _catch_exceptions  # type: ignore[attr-defined]
    _applied = True
