"""Faster component value conversion for wasmtime-py (wasmtime 50.0.1).

Measured in `bench/boundary.py` before this file: an HTTP handler call that runs
~50 us in wasm took ~250 us, and a 100 KB body took 168 ms to cross. The causes:

- Every conversion step re-reads the value's type through the C API (a
  record's fields, a list's element type, an option's payload): ~27 type
  look-ups for one `http-request` record, on every call, in both directions,
  and again in every host-import callback.
- `list<u8>` is converted one byte at a time, through a Python object per byte.

What `apply()` changes, without changing any converted value:

- Type properties are memoised on the type objects (component types are
  immutable), a `Func` keeps its type, and each host function keeps its
  parameter and result types after its first call, so look-ups happen once.
- `list<u8>` is lowered and lifted with strided slice copies over the C value
  array: one pass in C each way instead of a Python loop.

`tests/host/runtime/test_wasmtime_conversion.py` checks round trips of every
shape the WIT uses against the library's own conversion.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from wasmtime import _ffi as ffi
from wasmtime.component import _func, _linker, _types

_VAL_SIZE = ctypes.sizeof(ffi.wasmtime_component_val_t)
_UNION_OFFSET = ffi.wasmtime_component_val_t.of.offset
_KIND_OFFSET = ffi.wasmtime_component_val_t.kind.offset
_U8_KIND = bytes([ffi.WASMTIME_COMPONENT_U8.value])

_applied = False


def _memoised_property(cls: type, name: str) -> None:
    getter = getattr(cls, name).fget
    slot = f"_trafi_{name}"

    def cached(self: Any) -> Any:
        try:
            return self.__dict__[slot]
        except KeyError:
            value = self.__dict__[slot] = getter(self)
            return value

    setattr(cls, name, property(cached))


def _memoised_method(cls: type, name: str) -> None:
    method = getattr(cls, name)
    slot = f"_trafi_{name}"

    def cached(self: Any) -> Any:
        try:
            return self.__dict__[slot]
        except KeyError:
            value = self.__dict__[slot] = method(self)
            return value

    setattr(cls, name, cached)


def _lower_bytes(self: Any, store: Any, val: Any, ptr: Any) -> None:
    if not self._is_bytes():
        _list_convert_to_c(self, store, val, ptr)
        return
    if not isinstance(val, bytes):
        raise TypeError("expected bytes value")
    count = len(val)
    raw = ffi.wasmtime_component_vallist_t()
    ffi.wasmtime_component_vallist_new_uninit(raw, count)
    if count:
        image = bytearray(count * _VAL_SIZE)
        image[_KIND_OFFSET::_VAL_SIZE] = _U8_KIND * count
        image[_UNION_OFFSET::_VAL_SIZE] = val
        ctypes.memmove(raw.data, bytes(image), len(image))
    ptr.contents.kind = ffi.WASMTIME_COMPONENT_LIST
    ptr.contents.of.list = raw


def _lift_bytes(self: Any, c: Any) -> Any:
    if not self._is_bytes():
        return _list_convert_from_c(self, c)
    assert c.kind == ffi.WASMTIME_COMPONENT_LIST.value
    try:
        count = c.of.list.size
        if not count:
            return b""
        image = ctypes.string_at(c.of.list.data, count * _VAL_SIZE)
        return image[_UNION_OFFSET::_VAL_SIZE]
    finally:
        # u8 values own nothing: deleting the list frees the array only.
        ffi.wasmtime_component_vallist_delete(ctypes.byref(c.of.list))


_list_convert_to_c: Callable[..., Any] = _types.ListType.convert_to_c
_list_convert_from_c: Callable[..., Any] = _types.ListType.convert_from_c


def _func_type(self: Any, store: Any) -> Any:
    try:
        return self.__dict__["_trafi_type"]
    except KeyError:
        value = self.__dict__["_trafi_type"] = _original_func_type(self, store)
        return value


_original_func_type: Callable[..., Any] = _func.Func.type


@ffi.wasmtime_component_func_callback_t  # type: ignore[misc]
def _host_func_impl(idx, context, ty_raw, args, nargs, results, nresults):  # type: ignore[no-untyped-def]
    def run(store: Any) -> None:
        func: Any = _linker.FUNCTIONS.get(idx or 0)
        types = getattr(func, "_trafi_wit_types", None)
        if types is None:
            with _types.FuncType._from_ptr(ty_raw, owner=store) as fty:
                types = ([ty for _, ty in fty.params], fty.result)
            try:
                func._trafi_wit_types = types
            except AttributeError:
                pass  # not a plain function: no cache, same result
        param_tys, result_ty = types
        assert len(param_tys) == nargs
        pyargs = [ty.convert_from_c(args[i]) for i, ty in enumerate(param_tys)]
        result = func(store, *pyargs)
        if result_ty is None:
            assert result is None
        else:
            result_ty.convert_to_c(store, result, results)

    return _linker.catch_exceptions(context, run)  # type: ignore[attr-defined]


def apply() -> None:
    global _applied
    if _applied:
        return
    for cls, name in [
        (_types.RecordType, "fields"),
        (_types.TupleType, "elements"),
        (_types.ListType, "element"),
        (_types.VariantType, "cases"),
        (_types.OptionType, "payload"),
        (_types.ResultType, "ok"),
        (_types.ResultType, "err"),
        (_types.EnumType, "names"),
        (_types.FuncType, "params"),
        (_types.FuncType, "result"),
    ]:
        _memoised_property(cls, name)
    _memoised_method(_types.ListType, "_is_bytes")
    _memoised_method(_types.VariantLikeType, "_tagged")
    _types.ListType.convert_to_c = _lower_bytes  # type: ignore[method-assign]
    _types.ListType.convert_from_c = _lift_bytes  # type: ignore[method-assign]
    _func.Func.type = _func_type  # type: ignore[method-assign]
    _linker.func_impl = _host_func_impl  # type: ignore[attr-defined]
    _applied = True
