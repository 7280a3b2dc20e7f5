"""The runtime: compiled components in, HTTP-shaped calls out, under deadline and caps.

It knows nothing of HTTP frameworks, config files or the CLI.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Any, Self

import wasmtime

from ..capabilities.base import Capability, InstanceFacts, ServiceFailure
from ..capabilities.call import CallContext
from ..errors import ComponentError, ModuleStartError
from ..manifest.model import Manifest, Permissions
from .abandoned_calls import AbandonedCalls
from .artifacts import ArtifactCache
from .bulkhead import Waiter, WorkerBulkhead
from .call_metrics import ModuleCallMetrics
from .call_timing import CallTiming
from .declaration_reading import read_declarations
from .declarations import ModuleOffer
from .dev_code import RELOAD_SERVICE
from .engine import EngineSettings, EpochTicker, make_engine
from .guarded_call import CallWatchdog, GuardedCall, Lease, LoopAnswer, current_call, hold
from .handler_errors import MODULE_EXCEPTION, handler_exception, log_line
from .http_types import CallStats, ModuleRequest, ModuleResponse, Principal
from .image import HostLimits, ModuleImage
from .instance import ModuleInstance, prepare_capabilities
from .linker import build_linker
from .native.calls import native_calls
from .pool import InstancePool, PoolKey, PoolTimeout
from .response_policy import BadResponse, checked_response_headers, checked_status, recycle_requested
from .view_result import ViewResult
from .worker_threads import WorkerThreads
from .world import BadValue

log = logging.getLogger("trafi.runtime")

# (module, tenant, kind, detail): the module's own misbehaviour (a trap, a memory-cap hit,
# a refused host call, its own code running to the deadline); never the host's overload.
IncidentSink = Callable[[str, str, str, str], None]
# Finds a running module by name (for service calls between modules).
ModuleResolver = Callable[[str], ModuleImage | None]
CallObserver = Callable[[ModuleImage, ModuleResponse], None]
# (module, tenant, reason): stop serving a module now (it would block one more worker thread
# than host.maxAbandonedThreads allows).
QuarantineSink = Callable[[str, str, str], None]

# What a waiting event dispatch gets for a handler abandoned at its deadline: blocked in a WASI
# call (its own time), or in a Trafi host function (the host's).
ABANDONED_HANDLER = "handler deadline: blocked in a host/WASI call past its deadline; the call was abandoned"
ABANDONED_IN_HOST = (
    "host overloaded: the handler was still in a host call past its deadline; the call was abandoned"
)
ABANDONED_BEFORE_START = (
    "host overloaded: the handler had not started by its deadline (no worker thread or instance "
    "was ready in time); the call was abandoned"
)


class _NoSlot(Exception):
    """A call queued for a bulkhead slot got none by its deadline: it never started."""


# The answer of a call given up in the bulkhead's queue (`ModuleRuntime._give_up_queued`).
_NO_SLOT = object()


def _start_queued(start: Callable[[], GuardedCall], answer: LoopAnswer) -> None:
    """A queued call, its slot just taken for it, on the thread that freed the slot."""
    try:
        start()
    except BaseException as error:  # noqa: BLE001 - its caller, on the loop, gets it
        answer.settle(None, error)


def _abandoned_handler(call: GuardedCall) -> str:
    if call.module_at_fault:
        return ABANDONED_HANDLER
    # Without an instance the time went to a worker thread or an instance start, not a host call.
    return ABANDONED_IN_HOST if call.had_instance else ABANDONED_BEFORE_START


def _trap_kind(error: BaseException) -> str:
    text = str(error).lower()
    if "fuel allocated for hostcalls" in text:
        return "boundary"  # too much data for one call across the component boundary
    if "all fuel consumed" in text:
        return "fuel"
    if "interrupt" in text or "epoch" in text:
        return "deadline"
    if "memory" in text or "out of bounds" in text:
        return "memory"
    return "trap"


class ModuleRuntime:
    def __init__(
        self,
        cache_dir: Path,
        capabilities: Sequence[Capability[Any]],
        limits: HostLimits | None = None,
        settings: EngineSettings | None = None,
        workers: int | None = None,
        on_incident: IncidentSink | None = None,
        resolve_module: ModuleResolver | None = None,
        on_quarantine: QuarantineSink | None = None,
        dev: bool = False,
        on_call: CallObserver | None = None,
        native_boundary: str | None = None,
    ) -> None:
        """`native_boundary`: `auto`, `on` or `off` (None: the `TRAFI_NATIVE_BOUNDARY` setting)."""
        # Only `trafi dev` starts images of the dev runtime component (source imported at start).
        self.dev = dev
        self.on_incident = on_incident
        self.on_quarantine = on_quarantine
        # Under `trafi dev` a handler's uncaught exception (file, line, text) goes to the client.
        self.error_details = dev
        # Sees every answered HTTP call (an update's health window counts them).
        self.on_call = on_call
        self.resolve_module: ModuleResolver = resolve_module or (lambda name: None)
        self.capabilities = tuple(capabilities)
        self.limits = limits or HostLimits()
        self.settings = settings or EngineSettings(consume_fuel=self.limits.fuel_per_call is not None)
        self.engine = make_engine(self.settings)
        # Export calls through the C boundary (runtime/native/), or None: wasmtime-py's path.
        self.native = native_calls(native_boundary)
        self.ticker = EpochTicker(self.engine, native=self.native)
        self.ticker.start()
        self.artifacts = ArtifactCache(cache_dir, self.engine, self.settings)
        self.linker = build_linker(self.engine, self.capabilities, self.native)
        self.pool = InstancePool(self.limits.max_live_instances)
        self.stats = CallStats()
        self.module_stats = ModuleCallMetrics()
        # Wasm calls block (and release the GIL): they run here, never on the event loop.
        # Workers mostly wait (host calls, deadlines), so more than the cores.
        self.workers = workers or max(8, 4 * (os.cpu_count() or 2))
        # A call blocked in a WASI call past its deadline is abandoned and its thread replaced.
        self.threads = WorkerThreads(self.workers, self.limits.max_abandoned_threads)
        self.abandoned = AbandonedCalls(self.threads, self.stats, self._incident, self._quarantine)
        self.watchdog = CallWatchdog(self.abandoned.abandon)
        self.bulkhead = WorkerBulkhead(self.workers)

    # -- loading --------------------------------------------------------------

    def load_image(
        self,
        manifest: Manifest,
        folder: Path,
        config: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        data_root: Path | None = None,
        granted: Permissions | None = None,
    ) -> ModuleImage:
        component, digest = self.artifacts.load(folder / manifest.entry.backend, manifest.name)
        return ModuleImage(
            manifest,
            component,
            digest,
            folder,
            dict(config or {}),
            self.limits,
            dict(env or {}),
            data_root,
            granted,
        )

    def instantiate(
        self, image: ModuleImage, tenant: str, capabilities: Sequence[Capability[Any]] | None = None
    ) -> ModuleInstance:
        """A new instance of `image` for `tenant`, its capabilities prepared; `init` not run."""
        facts = InstanceFacts(
            module=image.name,
            version=image.version,
            tenant=tenant,
            folder=image.folder,
            data_root=image.data_root,
            config=image.config,
            env=image.env,
            permissions=image.grants,
            dependencies=frozenset(image.manifest.dependencies),
            services=self,
        )
        states, wasi = prepare_capabilities(capabilities or self.capabilities, facts)
        if image.dev_code is not None:
            if not self.dev:
                raise ComponentError(
                    f"module {image.name}: the dev runtime serves only under `trafi dev`; "
                    "build the module (`trafi module build`) to serve it"
                )
            image.dev_code.configure_wasi(wasi)
        context = CallContext(
            module=image.name,
            tenant_id=tenant,
            states=states,
            on_denied=lambda detail: self._incident(image.name, tenant, "denied", detail),
        )
        checks = [c for c in (capabilities or self.capabilities) if c.checks_after_calls(context)]
        return ModuleInstance(image, context, wasi, self.linker, self.ticker, checks, self.native)

    def _new_instance(
        self, image: ModuleImage, tenant: str, capabilities: Sequence[Capability[Any]] | None = None
    ) -> ModuleInstance:
        started = time.perf_counter()
        instance = self.instantiate(image, tenant, capabilities)
        try:
            error = instance.init(image.timeout_ms)
        except wasmtime.WasmtimeError as trap:
            self.stats.init_failures += 1
            instance.close()
            raise ModuleStartError(
                f"module {image.name}: init trapped for tenant {tenant} ({_trap_kind(trap)}): "
                f"{str(trap).strip().splitlines()[0]}"
            ) from None
        if error is not None:
            self.stats.init_failures += 1
            instance.close()
            raise ModuleStartError(f"module {image.name}: init failed for tenant {tenant}: {error}")
        kept = image.dev_code.restore.get(tenant) if image.dev_code is not None else None
        if kept is not None:
            self._restore(image, instance, tenant, kept)
        log.debug(
            "instance %s/%s ready in %.1f ms", image.name, tenant, (time.perf_counter() - started) * 1e3
        )
        return instance

    def _restore(self, image: ModuleImage, instance: ModuleInstance, tenant: str, kept: str) -> None:
        """Hands the old code's snapshot to a new instance (dev); a failure is logged, not fatal."""
        try:
            ok, answer = instance.call_service(RELOAD_SERVICE, "restore", kept, image.timeout_ms)
        except wasmtime.WasmtimeError as trap:
            instance.close()
            raise ModuleStartError(
                f"module {image.name}: restore trapped for tenant {tenant}: {trap}"
            ) from None
        if not ok:
            log.warning(
                "module %s tenant %s: state not restored after the reload: %s", image.name, tenant, answer
            )

    def snapshot_states(self, image: ModuleImage, timeout_ms: float = 1000) -> dict[str, str]:
        """Tenant -> what the image's idle instances hand over (`@module.on_reload.snapshot`), dev only.

        One idle instance per tenant is asked (instances of a tenant may differ: the most
        recently used one speaks for them); a busy or failing one is skipped and logged.
        """
        kept: dict[str, str] = {}
        for key, instance in self.pool.borrow_idle(image.name, image.load_id):
            try:
                ok, answer = instance.call_service(RELOAD_SERVICE, "snapshot", "", timeout_ms)
                if ok and answer != "{}":
                    kept[key[0]] = answer
                elif not ok:
                    log.warning("module %s tenant %s: snapshot failed: %s", image.name, key[0], answer)
            except wasmtime.WasmtimeError as trap:
                log.warning("module %s tenant %s: snapshot trapped: %s", image.name, key[0], trap)
            finally:
                self.pool.release(key, instance)
        return kept

    def _offer(self, image: ModuleImage, instance: ModuleInstance) -> ModuleOffer:
        """What the started module offers: its services and (world 0.3.0+) its declarations,
        read once per load; DeclarationError when a declaration is malformed."""
        names = tuple(sorted(instance.service_names(image.timeout_ms)))
        if not image.world.declares:
            return ModuleOffer(names)
        routes, views = instance.declared(image.timeout_ms)
        return ModuleOffer(names, read_declarations(image.manifest, routes, views))

    def trial_start(self, image: ModuleImage, capabilities: Sequence[Capability[Any]]) -> ModuleOffer:
        """Instantiate and init once against throwaway state; returns what the module offers
        (`image.offering(offer)` is the load to serve).

        `capabilities`: the same list as the runtime's, with services that keep
        nothing (an in-memory kv, no event sink), so a trial leaves no data behind.
        """
        different = [c.name for c in capabilities] != [c.name for c in self.capabilities]
        if different:
            raise ValueError("a trial start needs the runtime's capabilities, in the same order")
        with tempfile.TemporaryDirectory(prefix="trafi-trial-") as scratch:
            trial = dataclasses.replace(image, data_root=Path(scratch))
            instance = self._new_instance(trial, "__install_check__", capabilities)
            try:
                offer = self._offer(image, instance)
                instance.destroy(500)
            except wasmtime.WasmtimeError as trap:
                raise ModuleStartError(f"module {image.name}: trapped while starting: {trap}") from None
            finally:
                instance.close()
        return offer

    def prestart(self, image: ModuleImage, tenants: Sequence[str]) -> ModuleOffer:
        """Start one instance of `image` for each tenant into the pool (a hot reload: the tenants
        served so far find the new code warm); returns what the module offers. The first failure
        is raised (ModuleStartError) and the instances started so far stay for `retire`."""
        offer = ModuleOffer()
        for index, tenant in enumerate(tenants):
            seconds = image.timeout_ms / 1000
            instance, lease = self._checkout(
                image, tenant, time.monotonic() + seconds, CallTiming.start(seconds)
            )
            try:
                if index == 0:
                    offer = self._offer(image, instance)
            except wasmtime.WasmtimeError as trap:
                raise ModuleStartError(f"module {image.name}: trapped while starting: {trap}") from None
            finally:
                lease.give_back()
        return offer

    def _checkout(
        self, image: ModuleImage, tenant: str, deadline: float, timing: CallTiming
    ) -> tuple[ModuleInstance, Lease]:
        """An instance of `image` for `tenant` from the pool (started if needed); `give_back` the
        lease after. Held by this thread's guarded call: abandoning it frees the pool's place."""
        key: PoolKey = (tenant, image.name, image.load_id)
        instance = self.pool.acquire(
            key, image.instances_per_tenant, lambda: self._new_instance(image, tenant), deadline
        )
        lease = Lease(
            # Partials, not lambdas: called on every call, without a Python frame of their own.
            on_release=partial(self.pool.release, key, instance),
            on_abandon=partial(self.pool.abandon, key, instance),
            on_return=instance.close,
            module=image.name,
            tenant=tenant,
            timing=timing,
        )
        return instance, hold(lease)

    def call_service(
        self, caller: CallContext, module: str, service: str, method: str, payload: str, deadline: float
    ) -> str:
        """A service call from inside another module's call, on the same worker thread."""
        target = self.resolve_module(module)
        if target is None:
            raise ServiceFailure("unavailable", f"module {module!r} is not running")
        if service not in target.service_names:
            raise ServiceFailure("not-found", f"module {module!r} offers no service {service!r}")
        # Judged against the target's own timeout: a caller with less time left is the caller's limit.
        timing = CallTiming.start(target.timeout_ms / 1000)
        try:
            instance, lease = self._checkout(target, caller.tenant_id, deadline, timing)
        except PoolTimeout:
            self._overloaded(target.name, caller.tenant_id, f"service {service}.{method}", timing)
            raise ServiceFailure("unavailable", f"{module}.{service}: no free instance in time") from None
        except ModuleStartError as error:
            raise ServiceFailure("unavailable", str(error)) from None
        try:
            instance.context.depth = caller.depth + 1
            remaining_ms = (deadline - time.monotonic()) * 1000
            if remaining_ms <= 0:
                raise ServiceFailure("unavailable", f"{module}.{service}: the caller's deadline passed")
            ok, answer = instance.call_service(service, method, payload, remaining_ms, timing)
        except wasmtime.WasmtimeError as trap:
            kind = _trap_kind(trap)
            what = f"service {service}.{method}"
            if self._own_fault(target.name, caller.tenant_id, kind, timing, what):
                self.module_stats.trap(target.name)
                self._incident(target.name, caller.tenant_id, kind, what)
            raise ServiceFailure("unavailable", f"{module}.{service} failed ({kind})") from None
        finally:
            instance.context.depth = 0
            lease.give_back()
        if not ok:
            raise ServiceFailure("invalid-argument", f"{module}.{service}: {answer}")
        return answer

    def deliver_event_blocking(
        self,
        image: ModuleImage,
        event: Any,
        tenant: str,
        deadline: float,
        budget: float | None = None,
        *,
        from_start: bool = False,
    ) -> str | None:
        """Hand one event (a WIT `event` record) to the module's handler on this thread.

        `budget`: the seconds the handler is entitled to (the sync event deadline;
        by default the module's timeout), of which the time before `deadline` is
        what is left. With `from_start` (an async delivery: nobody waits for it) the
        handler gets its whole budget from the moment it starts, and `deadline` bounds
        only the wait for an instance: starting one on a busy host must not eat the
        handler's time. Returns None when handled, else why not (the handler's error,
        a trap, the deadline, the host's overload); never raises for what the module does.
        """
        seconds = budget if budget is not None else image.timeout_ms / 1000
        timing = CallTiming.until(deadline, seconds)
        try:
            instance, lease = self._checkout(image, tenant, deadline, timing)
            if from_start:
                timing = lease.timing = CallTiming.start(seconds)
                deadline = timing.deadline
                self._guard_until(deadline)
        except PoolTimeout:
            self._overloaded(image.name, tenant, "event handler", timing)
            return f"host overloaded: no free instance of {image.name} before the deadline"
        except ModuleStartError as error:
            return str(error)
        try:
            if not instance.handles_events:
                return f"module {image.name} exports no event-handler (rebuild it with this SDK)"
            remaining_ms = (deadline - time.monotonic()) * 1000
            if remaining_ms <= 0:
                self._overloaded(image.name, tenant, "event handler", timing)
                return "host overloaded: the deadline passed before the handler started"
            return instance.handle_event(event, remaining_ms, timing)
        except wasmtime.WasmtimeError as trap:
            kind = _trap_kind(trap)
            if not self._own_fault(image.name, tenant, kind, timing, "event handler"):
                return f"host overloaded: the handler was stopped at the deadline ({timing.describe()})"
            self.module_stats.trap(image.name)
            self._incident(image.name, tenant, kind, "event handler")
            return f"handler {kind}: {str(trap).strip().splitlines()[0]}"
        finally:
            lease.give_back()

    def start_event_delivery(
        self, image: ModuleImage, event: Any, tenant: str, deadline: float, budget: float
    ) -> Future[str | None]:
        """A sync delivery on a worker thread, its bulkhead slot already taken by the caller.

        The future holds what `deliver_event_blocking` returns, or `ABANDONED_HANDLER` at the
        deadline plus a grace if the handler is blocked in a WASI call by then.
        """
        call = self._start(
            image.name,
            tenant,
            "event handler",
            deadline,
            lambda: self.deliver_event_blocking(image, event, tenant, deadline, budget),
            _abandoned_handler,
        )
        return call.result

    def deliver_event(self, image: ModuleImage, event: Any, tenant: str, deadline: float) -> str | None:
        """An async delivery (`deliver_event_blocking` with `from_start`) on a worker thread, in a
        bulkhead slot taken by `deadline`: the calling thread (a job worker) is back by the
        handler's deadline plus a grace, whatever the handler does."""
        if not self.bulkhead.enter_blocking(image.name, deadline, tenant):
            self._overloaded(image.name, tenant, "event handler", CallTiming.until(deadline, 0.0))
            return f"host overloaded: no free worker slot for {image.name} before the deadline"
        call = self._start(
            image.name,
            tenant,
            "event handler",
            deadline,
            lambda: self.deliver_event_blocking(image, event, tenant, deadline, from_start=True),
            _abandoned_handler,
        )
        answer: str | None = call.result.result()
        return answer

    # -- guarded calls --------------------------------------------------------

    def _start(
        self,
        module: str,
        tenant: str,
        what: str,
        deadline: float,
        work: Callable[[], Any],
        abandoned_answer: Callable[[GuardedCall], Any],
        answer_is_incident: bool = False,
        answer: LoopAnswer | None = None,
        follows: bool = False,
    ) -> GuardedCall:
        """Runs `work` on a worker thread holding (module, tenant)'s bulkhead slot, which the
        caller has taken; abandoned if still running at `deadline` plus the grace.

        `answer_is_incident`: the caller's answer (an HTTP 504) is the module's incident already,
        so abandoning the call adds none for that module. `answer`: where an event loop awaits it.
        The work is submitted last: a worker that starts at once finds everything in place, and
        the caller has nothing left to do but wait (its thread would hold the worker's GIL).
        `follows`: started as the slot is handed over; on a worker thread that is ending its own
        call, this one runs next on that thread.
        """
        call = GuardedCall(module, tenant, what, deadline, abandoned_answer, counted=answer_is_incident)
        call._hold(
            Lease(
                on_release=partial(self.bulkhead.leave, module, tenant),
                on_abandon=partial(self.bulkhead.leave, module, tenant),
            )
        )
        self.watchdog.watch(call)
        if answer is not None:
            call.on_outcome(answer.settle)
        try:
            (self.threads.run_next if follows else self.threads.run_soon)(partial(call.run, work))
        except RuntimeError:  # shut down: the slot goes back
            call.abandon()
            raise
        return call

    async def _in_slot(
        self,
        module: str,
        tenant: str,
        what: str,
        deadline: float,
        work: Callable[[], Any],
        abandoned_answer: Callable[[GuardedCall], Any],
        answer_is_incident: bool = False,
    ) -> Any:
        """`work`'s answer, run as a guarded call in (module, tenant)'s bulkhead slot, awaited on
        this loop. Raises `_NoSlot` when no slot came by `deadline`, TimeoutError when the call
        ran but gave no answer by the deadline plus a little grace (for the worker's own deadline
        answer to win the race).

        Queued behind a busy slot, the call is started by the thread that frees the slot: a worker
        ending a call runs it next, with no trip through this loop and no other thread woken.
        """
        answer = LoopAnswer()
        if self.bulkhead.try_enter(module, tenant):  # a free slot: nothing to queue
            waiter = None
        else:
            start = partial(
                _start_queued,
                partial(
                    self._start,
                    module,
                    tenant,
                    what,
                    deadline,
                    work,
                    abandoned_answer,
                    answer_is_incident,
                    answer,
                    follows=True,
                ),
                answer,
            )
            waiter = self.bulkhead.enter_or_queue(module, tenant, start)
        if waiter is None:
            self._start(
                module, tenant, what, deadline, work, abandoned_answer, answer_is_incident, answer=answer
            )
            return await answer.within(max(0.0, deadline - time.monotonic()) + 0.05)
        loop = asyncio.get_running_loop()
        timer = loop.call_at(
            loop.time() + max(0.0, deadline - time.monotonic()), self._give_up_queued, module, waiter, answer
        )
        try:
            outcome = await answer.within(max(0.0, deadline - time.monotonic()) + 0.05)
        except asyncio.CancelledError:
            self.bulkhead.withdraw(module, waiter)  # its caller went away: not worth a guest call
            raise
        finally:
            timer.cancel()
        if outcome is _NO_SLOT:
            raise _NoSlot
        return outcome

    def _give_up_queued(self, module: str, waiter: Waiter, answer: LoopAnswer) -> None:
        """At the deadline, on the loop: a call still queued is dropped and answered `_NO_SLOT`."""
        if self.bulkhead.withdraw(module, waiter):
            answer.settle(_NO_SLOT, None)

    def _guard_until(self, deadline: float) -> None:
        """Moves this thread's guarded call's deadline (an async handler's time starts late)."""
        call = current_call()
        if call is not None:
            call.deadline = deadline
            self.watchdog.watch(call)

    def _quarantine(self, module: str, tenant: str, reason: str) -> None:
        if self.on_quarantine is None:
            return
        try:
            self.on_quarantine(module, tenant, reason)
        except Exception:
            log.exception("could not quarantine module %s", module)

    # -- calling --------------------------------------------------------------

    def call_http_blocking(
        self, image: ModuleImage, request: ModuleRequest, deadline: float, timing: CallTiming | None = None
    ) -> ModuleResponse:
        """Run one HTTP call on this thread; `deadline` is a `time.monotonic()` instant.

        Time spent waiting (for an instance, for the deadline to leave room) is the
        host's: a deadline reached that way is an `overload` answer, not the module's.
        """
        self.stats.calls += 1
        timing = timing or CallTiming.until(deadline, image.timeout_ms / 1000)
        if time.monotonic() >= deadline:
            return self._overload_response(image)
        try:
            instance, lease = self._checkout(image, request.tenant_id, deadline, timing)
        except PoolTimeout:
            return self._overload_response(image)
        except ModuleStartError as error:
            return self._failure(image, request, 500, "init-failed", str(error))
        try:
            remaining_ms = (deadline - time.monotonic()) * 1000
            if remaining_ms <= 0:
                return self._overload_response(image)
            result = instance.handle(instance.world.request(request), remaining_ms, timing)
            try:
                lifted = instance.world.lift_response(result)
            except BadValue as error:
                return self._failure(image, request, 500, "bad-response", str(error))
            body = lifted.body
            if len(body) > image.body_caps.response:
                return self._failure(
                    image,
                    request,
                    502,
                    "oversized-response",
                    f"response of {len(body)} bytes; the limit of world {image.world.version} "
                    f"is {image.body_caps.response}",
                )
            try:
                status = checked_status(lifted.status)
                checked = checked_response_headers(lifted.headers, request.headers)
            except BadResponse as error:
                if recycle_requested(lifted.headers) is not None:
                    instance.healthy = False
                return self._failure(image, request, 502, "bad-response", str(error))
            if checked.recycle is not None:
                # Asked for by the guest after a MemoryError: the next call gets a fresh instance.
                instance.healthy = False
            if checked.dropped:
                dropped = ", ".join(checked.dropped)
                log.info("module %s: response headers dropped by policy: %s", image.name, dropped)
            failure = "memory" if checked.recycle == "memory" else None
            report = None if self.error_details or status != 500 else handler_exception(status, body)
            if report is not None:
                return self._hidden_exception(image, request, report)
            return ModuleResponse(status=status, headers=checked.kept, body=body, failure=failure)
        except wasmtime.WasmtimeError as trap:
            kind = _trap_kind(trap)
            if kind == "deadline":
                response = self._deadline_or_overload(image, request, timing)
                if response.failure == "deadline":  # the epoch stopped the module's own code
                    self.module_stats.trap(image.name)
                return response
            self.module_stats.trap(image.name)
            if kind == "fuel":
                return self._failure(
                    image, request, 504, "fuel", f"used its {image.host_limits.fuel_per_call} fuel"
                )
            if kind == "boundary":
                return self._failure(
                    image,
                    request,
                    502,
                    "oversized-response",
                    f"response too large to copy out of the component (the limit of world "
                    f"{image.world.version} is {image.body_caps.response} bytes)",
                )
            return self._failure(image, request, 500, kind, str(trap))
        finally:
            lease.give_back()

    async def call_http(self, image: ModuleImage, request: ModuleRequest) -> ModuleResponse:
        """The wall-clock promise: answered by the module's deadline, whatever the module does."""
        started = time.perf_counter()
        timing = CallTiming.start(image.timeout_ms / 1000)
        response = await self._call_http(image, request, timing)
        self.module_stats.observe_call(image.name, time.perf_counter() - started)
        self._observe(image, request, response, timing)
        if self.on_call is not None:
            try:
                self.on_call(image, response)
            except Exception:
                log.exception("the call observer failed for module %s", image.name)
        return response

    async def _call_http(
        self, image: ModuleImage, request: ModuleRequest, timing: CallTiming
    ) -> ModuleResponse:
        deadline = timing.deadline
        try:
            response: ModuleResponse = await self._in_slot(
                image.name,
                request.tenant_id,
                f"{request.method} {request.path}",
                deadline,
                partial(self.call_http_blocking, image, request, deadline, timing),
                lambda _call: self._deadline_or_overload(image, request, timing),
                answer_is_incident=True,
            )
            return response
        except _NoSlot:
            return self._overload_response(image)  # queued for a worker slot until the deadline
        except TimeoutError:
            # The epoch deadline stops guest code shortly after, and the worker frees itself;
            # a guest blocked in a WASI call is abandoned by the watchdog instead. Whose deadline
            # it was depends on where the time went (queued for a thread, an instance, host
            # calls, or the module's own code).
            return self._deadline_or_overload(image, request, timing)

    def render_view_blocking(
        self,
        image: ModuleImage,
        view_id: str,
        tenant: str,
        principal: Principal,
        query: tuple[tuple[str, str], ...],
        timing: CallTiming,
    ) -> ViewResult:
        """Run one `views.render` on this thread, by `timing`'s deadline; never raises for what
        the module does (a trap is an incident and a failed result)."""
        what = f"view {view_id}"
        deadline = timing.deadline
        try:
            instance, lease = self._checkout(image, tenant, deadline, timing)
        except PoolTimeout:
            self._overloaded(image.name, tenant, what, timing)
            return self._view_overload(image)
        except ModuleStartError as error:
            return ViewResult(False, str(error), "init-failed")
        try:
            remaining_ms = (deadline - time.monotonic()) * 1000
            if remaining_ms <= 0:
                self._overloaded(image.name, tenant, what, timing)
                return self._view_overload(image)
            request = instance.world.view_request(view_id, query, tenant, principal)
            ok, text = instance.render_view(request, remaining_ms, timing)
            return ViewResult(ok, text)
        except wasmtime.WasmtimeError as trap:
            kind = _trap_kind(trap)
            if not self._own_fault(image.name, tenant, kind, timing, what):
                return self._view_overload(image)
            self.module_stats.trap(image.name)
            self._incident(image.name, tenant, kind, what)
            if kind == "deadline":
                return self._view_deadline(image)
            return ViewResult(False, f"module {image.name} failed rendering {view_id} ({kind})", kind)
        finally:
            lease.give_back()

    async def call_view(
        self,
        image: ModuleImage,
        view_id: str,
        tenant: str,
        principal: Principal,
        query: tuple[tuple[str, str], ...] = (),
        deadline: float | None = None,
    ) -> ViewResult:
        """The module's `views.render` for a dashboard page, answered by the module's deadline
        (or `deadline`, a `time.monotonic()` instant, when sooner) whatever the module does:
        the same bulkhead slot, worker thread, watchdog and incidents as an HTTP call.

        The caller checks the view's permission first; a view the module did not declare is
        not rendered (`failure="no-view"`)."""
        if not any(view.id == view_id for view in image.declarations.views):
            return ViewResult(False, f"module {image.name} declares no view {view_id!r}", "no-view")
        seconds = image.timeout_ms / 1000
        if deadline is not None:
            # The caller's sooner deadline is the whole budget: the module's own code running to it
            # is the module's deadline, not the host's overload.
            seconds = max(0.0, min(seconds, deadline - time.monotonic()))
        timing = CallTiming.start(seconds)
        until = timing.deadline
        try:
            result: ViewResult = await self._in_slot(
                image.name,
                tenant,
                f"view {view_id}",
                until,
                lambda: self.render_view_blocking(image, view_id, tenant, principal, query, timing),
                lambda _call: self._view_deadline_or_overload(image, timing),
            )
            return result
        except _NoSlot:
            self._overloaded(image.name, tenant, f"view {view_id}", timing)
            return self._view_overload(image)
        except TimeoutError:
            return self._view_deadline_or_overload(image, timing)

    def _view_deadline_or_overload(self, image: ModuleImage, timing: CallTiming) -> ViewResult:
        return self._view_deadline(image) if timing.module_at_fault() else self._view_overload(image)

    def _view_deadline(self, image: ModuleImage) -> ViewResult:
        return ViewResult(
            False, f"module {image.name} did not render within {image.timeout_ms} ms", "deadline"
        )

    def _view_overload(self, image: ModuleImage) -> ViewResult:
        return ViewResult(
            False,
            f"the host is overloaded: module {image.name} could not render within its "
            f"{image.timeout_ms} ms deadline; retry later",
            "overload",
        )

    def _observe(
        self, image: ModuleImage, request: ModuleRequest, response: ModuleResponse, timing: CallTiming
    ) -> None:
        """Counts what the caller got, once per request; reports the module's misbehaviour as an
        incident, and the host's overload as what it is (counted and logged, never an incident)."""
        kind = response.failure
        if kind is None:
            return
        if kind == "deadline":
            self.stats.deadline_hits += 1
            self.module_stats.deadline_hit(image.name)
        self.stats.by_failure[kind] = self.stats.by_failure.get(kind, 0) + 1
        self.module_stats.failure(image.name, kind)
        detail = f"{request.method} {request.path}"
        if kind == "overload":
            self._overloaded(image.name, request.tenant_id, detail, timing)
            return
        if response.error_id:
            detail += f" (error id {response.error_id})"
        self._incident(image.name, request.tenant_id, kind, detail)

    def _own_fault(self, module: str, tenant: str, kind: str, timing: CallTiming, what: str) -> bool:
        """Whether a trap of `kind` is the module's misbehaviour. A deadline its own code did not
        use up (the time went to waiting and host calls) is the host's overload: counted here."""
        if kind != "deadline" or timing.module_at_fault():
            return True
        self._overloaded(module, tenant, what, timing)
        return False

    def _overloaded(self, module: str, tenant: str, what: str, timing: CallTiming) -> None:
        self.stats.overloads += 1
        log.warning(
            "host_overloaded module=%s tenant=%s call=%r: the deadline passed (%s); "
            "answered as the host's overload, not an incident of the module",
            module,
            tenant,
            what,
            timing.describe(),
        )

    def _incident(self, module: str, tenant: str, kind: str, detail: str) -> None:
        if self.on_incident is None:
            return
        call = current_call()
        if call is not None and call.abandoned:
            # Its thread came back after the abandonment, which was the incident (or not) already.
            log.info(
                "module %s tenant %s: %s after its call was abandoned (%s)", module, tenant, kind, detail
            )
            return
        try:
            self.on_incident(module, tenant, kind, detail)
        except Exception:
            log.exception("could not record incident %s for module %s", kind, module)

    def _deadline_or_overload(
        self, image: ModuleImage, request: ModuleRequest, timing: CallTiming
    ) -> ModuleResponse:
        """At the deadline: a 504 if the module's own code used its time, else the host's 503."""
        if timing.module_at_fault():
            return self._deadline_response(image, request)
        return self._overload_response(image)

    def _overload_response(self, image: ModuleImage) -> ModuleResponse:
        """503 with Retry-After: the host could not run the call in time (logged by `_observe`)."""
        return ModuleResponse.host_error(
            503,
            "overload",
            f"the host is overloaded: module {image.name} could not run within its "
            f"{image.timeout_ms} ms deadline; retry later",
            uuid.uuid4().hex[:12],
            retry_after=max(1, math.ceil(image.timeout_ms / 1000)),
        )

    def _deadline_response(self, image: ModuleImage, request: ModuleRequest) -> ModuleResponse:
        # Counted in `_observe`, once per request: the worker and the caller's timeout may
        # both answer a request at its deadline (only one answer reaches the caller).
        error_id = uuid.uuid4().hex[:12]
        log.warning(
            "module %s tenant %s: deadline of %d ms passed (error id %s)",
            image.name,
            request.tenant_id,
            image.timeout_ms,
            error_id,
        )
        return ModuleResponse.host_error(
            504, "deadline", f"module {image.name} did not answer within {image.timeout_ms} ms", error_id
        )

    def _hidden_exception(
        self, image: ModuleImage, request: ModuleRequest, report: dict[str, Any]
    ) -> ModuleResponse:
        """A handler's uncaught exception outside dev: the details to the log under an error id.

        The module's own bug, not misbehaviour towards the host: no trap, no incident."""
        error_id = uuid.uuid4().hex[:12]
        log.error(
            "module %s tenant %s: %s %s raised (error id %s): %s",
            image.name,
            request.tenant_id,
            request.method,
            request.path,
            error_id,
            log_line(report),
        )
        message = f"module {image.name} failed ({MODULE_EXCEPTION}); see the host log"
        hidden = ModuleResponse.host_error(500, MODULE_EXCEPTION, message, error_id)
        return dataclasses.replace(hidden, failure=None)

    def _failure(
        self, image: ModuleImage, request: ModuleRequest, status: int, kind: str, detail: str
    ) -> ModuleResponse:
        self.stats.traps += 1
        error_id = uuid.uuid4().hex[:12]
        log.error(
            "module %s tenant %s: %s (error id %s): %s",
            image.name,
            request.tenant_id,
            kind,
            error_id,
            detail.strip(),
        )
        return ModuleResponse.host_error(
            status, kind, f"module {image.name} failed ({kind}); see the host log", error_id
        )

    # -- unloading ------------------------------------------------------------

    def unload(self, module: str) -> None:
        self.pool.drop(module)

    def warm(self, image: ModuleImage, tenants: Sequence[str], seconds: float = 10.0) -> int:
        """Start one instance of `image` per tenant and pool it (a swap warms the new load before
        routing calls to it); returns how many started. A tenant whose instance cannot start is
        logged and skipped: its calls report it (and an update's health window counts them)."""
        started = 0
        for tenant in tenants:
            try:
                _, lease = self._checkout(
                    image, tenant, time.monotonic() + seconds, CallTiming.start(seconds)
                )
            except (PoolTimeout, ModuleStartError) as error:
                log.warning("could not warm module %s for tenant %s: %s", image.name, tenant, error)
                continue
            lease.give_back()
            started += 1
        return started

    def retire(self, image: ModuleImage) -> None:
        """One load of a module stops serving (a swap replaced it): its idle instances go now,
        busy ones when their call ends; the load that replaced it is untouched."""
        self.pool.drop(image.name, load_id=image.load_id)

    def close(self) -> None:
        self.pool.close()
        self.watchdog.stop()
        self.threads.shutdown()
        self.ticker.stop()
        # The linker owns its host functions from C (wasmtime's side), out of the collector's
        # sight: they reach back to this runtime, so until it is deleted the whole host stays
        # alive, a cycle no collection frees. An instance still running keeps its own functions.
        self.linker.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
