"""One Store + component instance, serving one (tenant, module), one call at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import wasmtime
from wasmtime import component as wc

from ..capabilities.base import Capability, InstanceFacts
from ..capabilities.call import CallContext, bind_call
from ..errors import ComponentError
from .call_timing import CallTiming, guest_call
from .engine import EpochTicker
from .image import ModuleImage
from .native.calls import NativeCalls, NativeFunc

log = logging.getLogger("trafi.runtime")

# Instantiation runs no module code (componentize-py pre-initialises at build
# time), but `init` does: it gets the module's call deadline.
_INSTANTIATE_BUDGET_MS = 5_000


def prepare_capabilities(
    capabilities: Sequence[Capability[Any]], facts: InstanceFacts
) -> tuple[dict[str, object], wasmtime.WasiConfig]:
    """Each capability's state for one instance, and the WASI view they grant together.

    A WasiConfig grants nothing by itself (no env, no preopens, no sockets): only
    what a capability adds from its grant reaches the guest.
    """
    states: dict[str, object] = {}
    wasi = wasmtime.WasiConfig()
    for capability in capabilities:
        state = capability.prepare(facts)
        states[capability.name] = state
        capability.configure_wasi(wasi, state)
    return states, wasi


class ModuleInstance:
    def __init__(
        self,
        image: ModuleImage,
        context: CallContext,
        wasi: wasmtime.WasiConfig,
        linker: wc.Linker,
        ticker: EpochTicker,
        after_call: Sequence[Capability[Any]] = (),
        native: NativeCalls | None = None,
    ) -> None:
        """`native`: call the exports through the C boundary where their types allow."""
        self.image = image
        self.world = image.world
        self.context = context
        self.after_call = tuple(after_call)
        self.ticker = ticker
        self.healthy = True
        self.calls = 0
        # Bytes this instance has returned to the host. componentize-py 0.25's guest
        # runtime keeps what a call returns allocated (measured: a 100 KB response
        # leaves ~100 KB behind per call), so the pool retires an instance before
        # that fills its memory cap: see `worn_out`.
        self.returned_bytes = 0
        self._worn_out_at = image.memory_bytes // 4
        self.created_at = time.monotonic()
        self.store = wasmtime.Store(ticker.engine)
        self.store.set_wasi(wasi)
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
                f"is it built for the {self.world.world} world?"
            ) from None
        try:
            self.exports = self.world.exports(self.instance, self.store, image.name)
        except ComponentError:
            self.store.close()
            raise
        # Each export's C call, where the extension is loaded and handles its types.
        self.native_funcs: dict[wc.Func, NativeFunc] = {}
        if native is not None:
            for func in vars(self.exports).values():
                if func is not None and (bound := native.bind(func, self.store)) is not None:
                    self.native_funcs[func] = bound

    def _call(self, func: wc.Func, *args: Any, timeout_ms: float, timing: CallTiming | None = None) -> Any:
        """Call under the epoch deadline; a trap marks the instance unusable.

        `timing`: where the caller learns how much of the call was the guest's own time.
        """
        ticks = self.ticker.ticks_for(timeout_ms)
        native = self.native_funcs.get(func)
        if native is None:
            self.store.set_epoch_deadline(ticks)
            if self.fuel is not None:
                self.store.set_fuel(self.fuel)
        self.context.begin_call(time.monotonic() + timeout_ms / 1000)
        self.calls += 1
        try:
            with bind_call(self.context), guest_call(timing or CallTiming.start(timeout_ms / 1000)):
                if native is not None:
                    return native.call_within(args, ticks, self.fuel)  # limits and post-return included
                result = func(self.store, *args)
                # Lets the guest free what it returned (a response body): without
                # it each large response stays allocated in the instance.
                func.post_return(self.store)
                return result
        except BaseException:
            # wasmtime poisons an instance after a trap: it can never be entered again.
            self.healthy = False
            raise
        finally:
            self._check_after_call()

    def _check_after_call(self) -> None:
        for capability in self.after_call:
            try:
                capability.after_call(self.context)
            except Exception:
                log.exception("module %s: %s check after a call failed", self.image.name, capability.name)
        if self.context.recycle:
            self.healthy = False

    def init(self, timeout_ms: float) -> str | None:
        """Runs the module's `init`; returns the module's error text, or None."""
        context = self.world.init_context(self.image.name, self.image.version, self.context.tenant_id)
        return self.world.lift_error(self._call(self.exports.init, context, timeout_ms=timeout_ms))

    def handle(self, request: Any, timeout_ms: float, timing: CallTiming | None = None) -> Any:
        """Runs the HTTP handler on a request value made by `self.world.request`."""
        response = self._call(self.exports.handle, request, timeout_ms=timeout_ms, timing=timing)
        body = getattr(response, "body", b"")
        headers = getattr(response, "headers", ())
        self.returned_bytes += len(body) + sum(len(k) + len(v) + 16 for k, v in headers) + 64
        return response

    @property
    def worn_out(self) -> bool:
        """True once the returned bytes reach a quarter of the memory cap."""
        return self.returned_bytes >= self._worn_out_at

    def declared(self, timeout_ms: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The routes and views the module declares, as the world lifts them (0.3.0+)."""
        routes_export, views_export = self.exports.routes_declared, self.exports.views_declared
        assert routes_export is not None and views_export is not None, "check world.declares first"
        routes = self.world.lift_routes(self._call(routes_export, timeout_ms=timeout_ms))
        views = self.world.lift_views(self._call(views_export, timeout_ms=timeout_ms))
        return routes, views

    def render_view(
        self, request: Any, timeout_ms: float, timing: CallTiming | None = None
    ) -> tuple[bool, str]:
        """(True, the UI tree's JSON text) or (False, the module's error message)."""
        assert self.exports.view_render is not None, "check world.declares first"
        result = self._call(self.exports.view_render, request, timeout_ms=timeout_ms, timing=timing)
        return self.world.lift_service(result)

    def service_names(self, timeout_ms: float) -> list[str]:
        return [str(name) for name in self._call(self.exports.service_names, timeout_ms=timeout_ms)]

    def call_service(
        self, service: str, method: str, payload: str, timeout_ms: float, timing: CallTiming | None = None
    ) -> tuple[bool, str]:
        """(True, answer) or (False, the service's error message)."""
        result = self._call(
            self.exports.service_call, service, method, payload, timeout_ms=timeout_ms, timing=timing
        )
        return self.world.lift_service(result)

    @property
    def handles_events(self) -> bool:
        return self.exports.event_handle is not None

    def handle_event(
        self, event: wc.Record, timeout_ms: float, timing: CallTiming | None = None
    ) -> str | None:
        """Runs the module's event handler; returns its error text, or None."""
        assert self.exports.event_handle is not None, "check handles_events first"
        result = self._call(self.exports.event_handle, event, timeout_ms=timeout_ms, timing=timing)
        return self.world.lift_error(result)

    def destroy(self, timeout_ms: float) -> None:
        if self.healthy:
            self._call(self.exports.destroy, timeout_ms=timeout_ms)

    def close(self) -> None:
        self.healthy = False
        # The C calls hold the store's raw address: after close, a call must go the wasmtime-py
        # way, which refuses a closed store ("already closed") instead of touching freed memory.
        self.native_funcs = {}
        self.store.close()
