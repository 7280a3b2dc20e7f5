"""Export calls and host functions through the C boundary (`_boundary`), where it is built and allowed.

`TRAFI_NATIVE_BOUNDARY` chooses: `auto` (the default) uses the extension when it loads and
falls back to wasmtime-py otherwise, `on` refuses to start without it, `off` never loads it.
Only wasmtime 50.0.1 is accepted (the C declarations were copied from that version).

A call through the extension ends the way wasmtime-py's would: the same lifted values, and
its traps, epoch interrupts and host-function exceptions raised as the same exceptions,
made by wasmtime-py's own `WasmtimeError._from_ptr` from the error the call returned.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable
from importlib import import_module
from importlib.metadata import version
from types import ModuleType
from typing import Any, NoReturn

import wasmtime
from wasmtime import WasmtimeError
from wasmtime import _ffi as ffi
from wasmtime import component as wc
from wasmtime.component import _enter, _types

from ...settings import native_boundary_mode
from ..wasmtime_fixes import CHECKED_VERSIONS
from ..wasmtime_threading import remember_exception
from .build import source_digest
from .plans import Unsupported, describe_function

log = logging.getLogger("trafi.runtime")


class NativeBoundaryUnavailable(RuntimeError):
    """`TRAFI_NATIVE_BOUNDARY=on`, but the extension cannot be used; the message says why."""


def _raise_error(address: int) -> NoReturn:
    error = WasmtimeError._from_ptr(ctypes.cast(address, ctypes.POINTER(ffi.wasmtime_error_t)))
    # A host function's own exception wins over wasmtime's "python exception", as in wasmtime-py
    # (looked up per call: runtime/wasmtime_threading.py swaps in a per-thread version).
    _enter.maybe_raise_last_exn()
    raise error


def _import_plan(address: int) -> Any:
    """The plan of a host function, from the type wasmtime passes its first call."""
    pointer = ctypes.cast(address, ctypes.POINTER(ffi.wasmtime_component_func_type_t))
    # Borrowed from wasmtime for the call: an owner keeps wasmtime-py from deleting it.
    func_type = _types.FuncType._from_ptr(pointer, owner=_BORROWED)
    try:
        return _compile(describe_function(func_type))
    except Unsupported as why:
        raise TypeError(
            f"a host function linked through the C boundary has a type it cannot convert ({why})"
        ) from None


def _import_failed(error: BaseException) -> int:
    """The wasmtime error a host function's exception becomes, as wasmtime-py makes it: its own
    error as is, any other exception kept for this thread's caller behind "python exception"."""
    if isinstance(error, WasmtimeError):
        failure = error
    else:
        remember_exception(error)
        failure = WasmtimeError("python exception")
    address = ctypes.cast(failure._consume(), ctypes.c_void_p).value
    assert address is not None
    return address


_BORROWED = object()
_plans: dict[Any, Any] = {}


def _compile(shape: tuple[Any, ...]) -> Any:
    """One compiled plan per function shape, shared by every function of that shape."""
    plan = _plans.get(shape)
    if plan is None:
        plan = _plans[shape] = _extension().compile(*shape)
    return plan


def _extension() -> ModuleType:
    return import_module("trafi_host.runtime.native._boundary")


def _load_extension() -> ModuleType:
    installed = version("wasmtime")
    if installed not in CHECKED_VERSIONS:
        raise NativeBoundaryUnavailable(
            f"wasmtime {installed} is not the version its C declarations were checked against "
            f"({', '.join(CHECKED_VERSIONS)}); review runtime/native/wasmtime_component_api.h"
        )
    try:
        extension = import_module("trafi_host.runtime.native._boundary")
    except ImportError as error:
        raise NativeBoundaryUnavailable(
            f"the extension is not built ({error}); run `python host/trafi_host/runtime/native/build.py`"
        ) from None
    if extension.SOURCE_DIGEST != source_digest():
        raise NativeBoundaryUnavailable(
            "the built extension is older than runtime/native/boundary.c; "
            "run `python host/trafi_host/runtime/native/build.py`"
        )
    handle = ffi.dll._handle
    extension.init(handle, wc.Record, wc.Variant, _raise_error, _import_plan, _import_failed)
    return extension


class NativeCalls:
    """Call plans, compiled once per function shape, and the calls that use them."""

    def __init__(self, extension: ModuleType) -> None:
        self.extension = extension

    def plan(self, func: wc.Func, store: wasmtime.Store) -> Any | None:
        """The compiled plan of `func`'s type, or None when a type in it has no C conversion."""
        try:
            shape = describe_function(func.type(store))
        except Unsupported as why:
            log.debug("native boundary: keeping wasmtime-py for a function (%s)", why)
            return None
        return _compile(shape)

    def add_import(self, instance: wc.LinkerInstance, name: str, function: Callable[..., Any]) -> None:
        """Link a host function called through C (its store argument is None: Trafi's host
        functions find their call through `current_call()`)."""
        instance._assert_not_locked()
        address = ctypes.cast(instance.ptr(), ctypes.c_void_p).value
        self.extension.add_import(address, name, function)

    def start_ticker(self, engine: wasmtime.Engine, tick_ms: float) -> Callable[[], None]:
        """Advance `engine`'s epoch every `tick_ms` from a C thread that never takes the GIL;
        returns the function that stops it (and waits for it)."""
        address = ctypes.cast(engine.ptr(), ctypes.c_void_p).value
        handle = self.extension.ticker_start(address, max(1, round(tick_ms * 1000)))
        return lambda: self.extension.ticker_stop(handle)

    def bind(self, func: wc.Func, store: wasmtime.Store) -> NativeFunc | None:
        plan = self.plan(func, store)
        if plan is None:
            return None
        context = ctypes.cast(store._context(), ctypes.c_void_p).value
        return NativeFunc(self.extension.call, plan, ctypes.addressof(func._func), context, func)


class NativeFunc:
    """One export of one instance, called through C: lower, call and post-return, lift."""

    __slots__ = ("_call", "_context_address", "_func", "_func_address", "_plan")

    def __init__(self, call: Any, plan: Any, func_address: int, context_address: int | None, func: wc.Func):
        self._call = call
        self._plan = plan
        self._func_address = func_address
        self._context_address = context_address
        self._func = func  # keeps the wasmtime_component_func_t the address points into alive

    def __call__(self, *args: Any) -> Any:
        return self._call(self._plan, self._func_address, self._context_address, args)

    def call_within(self, args: tuple[Any, ...], epoch_ticks: int, fuel: int | None) -> Any:
        """The call with the store's epoch deadline (and fuel, None: not metered) set by the same C call."""
        return self._call(
            self._plan,
            self._func_address,
            self._context_address,
            args,
            epoch_ticks,
            -1 if fuel is None else fuel,
        )


_lock = threading.Lock()
_resolved: dict[str, NativeCalls | None] = {}


def native_calls(mode: str | None = None) -> NativeCalls | None:
    """The process's native calls for `mode` (None: the `TRAFI_NATIVE_BOUNDARY` setting)."""
    mode = mode or native_boundary_mode()
    with _lock:
        if mode in _resolved:
            return _resolved[mode]
        calls: NativeCalls | None = None
        if mode != "off":
            try:
                calls = NativeCalls(_load_extension())
            except NativeBoundaryUnavailable as why:
                if mode == "on":
                    raise
                log.info("module calls use wasmtime-py: %s", why)
        _resolved[mode] = calls
        return calls
