"""One Store + component instance, serving one (tenant, module), one call at a time."""

from __future__ import annotations

import time
from typing import Any

import wasmtime
from wasmtime import component as wc

from ..capabilities.context import CallContext, bind_call
from ..errors import ComponentError
from ..version import WIT_VERSION
from ..wit_values import record
from .engine import EpochTicker
from .image import ModuleImage

# Instantiation runs no module code (componentize-py pre-initialises at build
# time), but `init` does: it gets the module's call deadline.
_INSTANTIATE_BUDGET_MS = 5_000


def wasi_for(image: ModuleImage, tenant: str) -> wasmtime.WasiConfig:
    """What WASI may reach: granted variables with operator values, granted folders, no sockets."""
    wasi = wasmtime.WasiConfig()
    wasi.env = image.granted_env  # never the host process's environment
    fs = image.grants.fs
    if fs is not None:
        module_root = image.folder.resolve()
        for grant in fs.read:
            folder = (module_root / grant.path).resolve()
            if folder.is_dir() and folder.is_relative_to(module_root):
                wasi.preopen_dir(str(folder), grant.path, False)
        if image.data_root is not None:
            for grant in fs.write:
                folder = image.data_root / tenant / image.name / grant.path
                folder.mkdir(parents=True, exist_ok=True)
                wasi.preopen_dir(str(folder), grant.path, True)
    return wasi


class ModuleInstance:
    def __init__(
        self,
        image: ModuleImage,
        context: CallContext,
        linker: wc.Linker,
        ticker: EpochTicker,
    ) -> None:
        self.image = image
        self.context = context
        self.ticker = ticker
        self.healthy = True
        self.calls = 0
        # Bytes this instance has returned to the host. componentize-py 0.25's guest
        # runtime keeps what a call returns allocated (measured: a 100 KB response
        # leaves ~100 KB behind per call), so the pool retires an instance before
        # that fills its memory cap: see `retire_after_bytes`.
        self.returned_bytes = 0
        self.created_at = time.monotonic()
        self.store = wasmtime.Store(ticker.engine)
        self.store.set_wasi(wasi_for(image, context.tenant_id))
        self.store.set_limits(memory_size=image.memory_bytes)
        self.store.set_epoch_deadline(ticker.ticks_for(_INSTANTIATE_BUDGET_MS))
        self.fuel = image.host_limits.fuel_per_call
        if self.fuel is not None:
            self.store.set_fuel(self.fuel)
        try:
            with bind_call(context):
                self.instance = linker.instantiate(self.store, image.component)
        except wasmtime.WasmtimeError as error:
            self.store.close()
            first = str(error).strip().splitlines()[0] if str(error).strip() else "unknown error"
            raise ComponentError(
                f"module {image.name}: cannot instantiate the component ({first}); "
                f"is it built for the trafi:host/module@{WIT_VERSION} world?"
            ) from None
        self._handle = self._export("http-handler", "handle")
        self._init = self._export("lifecycle", "init")
        self._destroy = self._export("lifecycle", "destroy")
        self._service_names = self._export("services", "names")
        self._service_call = self._export("services", "call")
        # Optional: a component built before event-handler joined the world still loads.
        self._event_handle = self._export("event-handler", "handle", required=False)

    def _export(self, interface: str, function: str, required: bool = True) -> wc.Func:
        name = f"trafi:host/{interface}@{WIT_VERSION}"
        index = self.instance.get_export_index(self.store, name)
        func_index = None if index is None else self.instance.get_export_index(self.store, function, index)
        func = None if func_index is None else self.instance.get_func(self.store, func_index)
        if func is None and not required:
            return None  # type: ignore[return-value]
        if func is None:
            raise ComponentError(
                f"module {self.image.name}: component does not export {name}#{function}; "
                f"is it built for the trafi:host/module@{WIT_VERSION} world?"
            )
        return func

    def _call(self, func: wc.Func, *args: Any, timeout_ms: float) -> Any:
        """Call under the epoch deadline; a trap marks the instance unusable."""
        self.store.set_epoch_deadline(self.ticker.ticks_for(timeout_ms))
        if self.fuel is not None:
            self.store.set_fuel(self.fuel)
        self.context.deadline = time.monotonic() + timeout_ms / 1000
        self.context.log_lines = 0
        self.calls += 1
        try:
            with bind_call(self.context):
                result = func(self.store, *args)
                # Lets the guest free what it returned (a response body): without
                # it each large response stays allocated in the instance.
                func.post_return(self.store)
                return result
        except BaseException:
            # wasmtime poisons an instance after a trap: it can never be entered again.
            self.healthy = False
            raise

    def init(self, timeout_ms: float) -> str | None:
        """Runs the module's `init`; returns the module's error text, or None."""
        ctx = record(
            module_name=self.image.name,
            module_version=self.image.version,
            tenant_id=self.context.tenant_id,
        )
        result = self._call(self._init, ctx, timeout_ms=timeout_ms)
        # wasmtime-py lifts `result<_, string>` untagged: None is ok, a string is the error.
        if result is None:
            return None
        if isinstance(result, wc.Variant):
            return None if result.tag == "ok" else str(result.payload)
        return str(result)

    def handle(self, request: wc.Record, timeout_ms: float) -> Any:
        response = self._call(self._handle, request, timeout_ms=timeout_ms)
        body = getattr(response, "body", b"")
        headers = getattr(response, "headers", ())
        self.returned_bytes += len(body) + sum(len(k) + len(v) + 16 for k, v in headers) + 64
        return response

    @property
    def worn_out(self) -> bool:
        """True once the returned bytes reach a quarter of the memory cap."""
        return self.returned_bytes >= self.image.memory_bytes // 4

    def service_names(self, timeout_ms: float) -> list[str]:
        return [str(name) for name in self._call(self._service_names, timeout_ms=timeout_ms)]

    def call_service(self, service: str, method: str, payload: str, timeout_ms: float) -> tuple[bool, str]:
        """(True, answer) or (False, the service's error message)."""
        result = self._call(self._service_call, service, method, payload, timeout_ms=timeout_ms)
        # `result<string, string>` lifts tagged (both cases are strings).
        return result.tag == "ok", str(result.payload)

    @property
    def handles_events(self) -> bool:
        return self._event_handle is not None

    def handle_event(self, event: wc.Record, timeout_ms: float) -> str | None:
        """Runs the module's event handler; returns its error text, or None."""
        result = self._call(self._event_handle, event, timeout_ms=timeout_ms)
        if result is None:
            return None
        if isinstance(result, wc.Variant):
            return None if result.tag == "ok" else str(result.payload)
        return str(result)

    def destroy(self, timeout_ms: float) -> None:
        if self.healthy:
            self._call(self._destroy, timeout_ms=timeout_ms)

    def close(self) -> None:
        self.healthy = False
        self.store.close()
