"""A worker is free again soon after the deadline, whatever the guest does (issue 12 item 1).

The hostile guests here block inside a WASI call (`time.sleep(60)`), which the
epoch deadline cannot interrupt: the call is abandoned at its deadline plus a
grace, its slot and its instance's place in the pool are given back at once,
its thread is replaced (up to host.maxAbandonedThreads), and a module that
would block more is quarantined. Every wait below is for something that must
happen well before the guest's 60 s sleep ends: the generous polling timeouts
(30 s) only turn a regression into a failure instead of a 60 s pass.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import install_modules
from tests.host.runtime.test_call_timing import get, product_created
from tests.host.test_incidents import tenant_headers
from tests.polling import seconds_until, wait_for
from trafi_host.api import create_app
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.manifest.load import load_manifest
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project
from trafi_host.runtime import HostLimits, ModuleImage, ModuleResponse, ModuleRuntime
from trafi_host.runtime.module_runtime import ABANDONED_BEFORE_START, ABANDONED_HANDLER

SLEEP = "60000"  # ms: far longer than any wait in these tests
WELL_BEFORE_THE_SLEEP_ENDS = 30.0
Incident = tuple[str, str, str, str]  # module, tenant, kind, detail


@dataclasses.dataclass
class Recorded:
    runtime: ModuleRuntime
    incidents: list[Incident]
    quarantined: list[tuple[str, str, str]]


def recorded_runtime(cache: Path, workers: int = 4, max_abandoned: int = 4) -> Recorded:
    incidents: list[Incident] = []
    quarantined: list[tuple[str, str, str]] = []
    runtime = ModuleRuntime(
        cache,
        host_capabilities(MemoryKv()),
        limits=HostLimits(max_abandoned_threads=max_abandoned),
        workers=workers,
        on_incident=lambda *incident: incidents.append(incident),
        on_quarantine=lambda *quarantine: quarantined.append(quarantine),
    )
    return Recorded(runtime, incidents, quarantined)


@pytest.fixture
def recorded(shared_artifact_cache: Path) -> Iterator[Recorded]:
    """Four workers: testkit may hold two of them, one per tenant."""
    recorded = recorded_runtime(shared_artifact_cache)
    yield recorded
    recorded.runtime.close()


def load(runtime: ModuleRuntime, folder: Path) -> ModuleImage:
    return runtime.load_image(load_manifest(folder), folder)


def call(
    runtime: ModuleRuntime, image: ModuleImage, path: str, tenant: str = "acme", **query: str
) -> ModuleResponse:
    return asyncio.run(runtime.call_http(image, get(path, tenant, **query)))


def sleeping_calls(runtime: ModuleRuntime, image: ModuleImage, tenants: list[str]) -> list[ModuleResponse]:
    async def together() -> list[ModuleResponse]:
        calls = (runtime.call_http(image, get("/sleep", tenant, ms=SLEEP)) for tenant in tenants)
        return list(await asyncio.gather(*calls))

    return asyncio.run(together())


def warm(runtime: ModuleRuntime, image: ModuleImage, *tenants: str) -> None:
    """An instance ready for each tenant: starting one on a busy machine would eat the sleeping
    call's budget, making its deadline the host's (an overload) rather than the module's."""
    for tenant in tenants:
        assert call(runtime, image, "/whoami", tenant).status == 200


def wasm_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name.startswith("trafi-wasm"))


def test_a_guest_sleeping_in_wasi_gives_its_slot_and_instance_back_soon_after_its_deadline(
    recorded: Recorded, testkit_dir: Path, hello_dir: Path
) -> None:
    runtime = recorded.runtime
    testkit, hello = load(runtime, testkit_dir), load(runtime, hello_dir)
    warm(runtime, testkit, "acme")
    [slept] = sleeping_calls(runtime, testkit, ["acme"])
    assert (slept.status, slept.failure) == (504, "deadline")  # answered at its 1 s deadline
    freed = seconds_until(
        lambda: runtime.bulkhead.busy("testkit") == 0 and runtime.pool.live_for("acme", "testkit") == 0,
        timeout=WELL_BEFORE_THE_SLEEP_ENDS,
        message="the sleeping call's slot and instance to be given back",
    )
    assert freed < WELL_BEFORE_THE_SLEEP_ENDS
    # acme's only testkit slot (one per tenant of four workers) serves acme again, on a new instance.
    assert call(runtime, testkit, "/whoami").status == 200
    assert call(runtime, hello, "/v1/hits").status == 200
    assert runtime.stats.abandoned == 1
    assert runtime.pool.stats.abandoned == 1
    assert runtime.threads.stats.abandoned == 1  # replaced: the host keeps its four workers
    # One incident for one call: its 504 counted the deadline, the abandonment adds none.
    assert [(m, t, k) for m, t, k, _ in recorded.incidents] == [("testkit", "acme", "deadline")]
    assert recorded.quarantined == []


def test_abandoned_threads_are_capped_and_the_module_that_would_pass_the_cap_is_quarantined(
    shared_artifact_cache: Path, testkit_dir: Path, hello_dir: Path
) -> None:
    others = wasm_threads()  # other tests' abandoned threads may still be asleep
    recorded = recorded_runtime(shared_artifact_cache, workers=4, max_abandoned=2)
    runtime = recorded.runtime
    try:
        testkit, hello = load(runtime, testkit_dir), load(runtime, hello_dir)
        warm(runtime, testkit, "acme", "globex")
        # Wave one: two calls blocked (testkit's share of four workers) are abandoned and their
        # threads replaced; that is the cap.
        assert {r.status for r in sleeping_calls(runtime, testkit, ["acme", "globex"])} == {504}
        wait_for(lambda: runtime.threads.stats.abandoned == 2, timeout=WELL_BEFORE_THE_SLEEP_ENDS)
        assert recorded.quarantined == []
        # Wave two: abandoned too (slots and instances given back), but not replaced: the module
        # that would take a thread past the cap is quarantined instead.
        warm(runtime, testkit, "acme", "globex")
        assert {r.status for r in sleeping_calls(runtime, testkit, ["acme", "globex"])} == {504}
        wait_for(lambda: runtime.stats.abandoned == 4, timeout=WELL_BEFORE_THE_SLEEP_ENDS)
        wait_for(lambda: len(recorded.quarantined) == 2, timeout=WELL_BEFORE_THE_SLEEP_ENDS)
        assert {(module, tenant) for module, tenant, _ in recorded.quarantined} == {
            ("testkit", "acme"),
            ("testkit", "globex"),
        }
        assert "host.maxAbandonedThreads (2)" in recorded.quarantined[0][2]
        assert runtime.threads.stats.abandoned == 2 and runtime.threads.stats.refused == 2
        assert runtime.bulkhead.busy("testkit") == 0
        # Two workers are left (two replacements, two stuck in place): another module is served.
        assert call(runtime, hello, "/v1/hits").status == 200
        # Eight threads' worth of sleeping calls, never more threads than workers + cap.
        assert runtime.threads.stats.peak <= 4 + 2
        assert runtime.threads.alive <= 4 + 2
        assert wasm_threads() - others <= 4 + 2
    finally:
        runtime.close()


def test_a_sync_event_handler_sleeping_in_wasi_is_abandoned_and_its_slot_given_back(
    recorded: Recorded, listener_dir: Path
) -> None:
    runtime = recorded.runtime
    listener = load(runtime, listener_dir)
    budget = 0.25  # the sync event deadline
    assert runtime.bulkhead.try_enter("listener", "acme")  # what the dispatcher does first
    warmed = runtime.start_event_delivery(
        listener, product_created("fine"), "acme", time.monotonic() + 30, 30
    )
    assert warmed.result(timeout=WELL_BEFORE_THE_SLEEP_ENDS) is None  # an instance is ready
    assert runtime.bulkhead.try_enter("listener", "acme")
    started = time.monotonic()
    pending = runtime.start_event_delivery(
        listener, product_created("sleep:60"), "acme", started + budget, budget
    )
    assert pending.result(timeout=WELL_BEFORE_THE_SLEEP_ENDS) == ABANDONED_HANDLER
    assert runtime.bulkhead.busy("listener") == 0
    assert runtime.pool.live_for("acme", "listener") == 0
    [(module, tenant, kind, detail)] = recorded.incidents
    assert (module, tenant, kind) == ("listener", "acme", "deadline")
    assert "blocked in a host/WASI call" in detail
    # The module goes on, on a new instance.
    assert runtime.bulkhead.try_enter("listener", "acme")
    again = runtime.start_event_delivery(listener, product_created("fine"), "acme", time.monotonic() + 5, 5)
    assert again.result(timeout=WELL_BEFORE_THE_SLEEP_ENDS) is None


def test_a_sync_handler_whose_instance_starts_past_its_deadline_is_the_hosts_overload(
    recorded: Recorded, listener_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = recorded.runtime
    listener = load(runtime, listener_dir)
    # The host is slow to start the instance (a stalled machine): the deadline passes before
    # the handler has run a line, so it is the host's overload, never the module's incident.
    starting = threading.Event()
    release = threading.Event()
    instantiate = runtime.instantiate

    def slow_instantiate(*args: object) -> object:
        starting.set()
        release.wait(WELL_BEFORE_THE_SLEEP_ENDS)
        return instantiate(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(runtime, "instantiate", slow_instantiate)
    assert runtime.bulkhead.try_enter("listener", "acme")
    pending = runtime.start_event_delivery(
        listener, product_created("raise"), "acme", time.monotonic() + 0.25, 0.25
    )
    try:
        assert pending.result(timeout=WELL_BEFORE_THE_SLEEP_ENDS) == ABANDONED_BEFORE_START
    finally:
        release.set()
    assert starting.is_set()
    assert recorded.incidents == [] and recorded.quarantined == []
    assert runtime.bulkhead.busy("listener") == 0
    # The instance that finished starting after the abandonment is not kept for anyone.
    wait_for(lambda: runtime.pool.live_for("acme", "listener") == 0, message="the late instance to go")


def test_an_async_event_handler_sleeping_in_wasi_gives_its_job_thread_back(
    recorded: Recorded, listener_dir: Path
) -> None:
    runtime = recorded.runtime
    listener = load(runtime, listener_dir)
    started = time.monotonic()
    # A job worker's thread waits here: back by the handler's 3 s timeout plus the grace.
    error = runtime.deliver_event(listener, product_created("sleep:60"), "globex", started + 10)
    assert error == ABANDONED_HANDLER
    assert time.monotonic() - started < WELL_BEFORE_THE_SLEEP_ENDS
    assert runtime.bulkhead.busy("listener") == 0
    assert runtime.pool.live_for("globex", "listener") == 0
    assert [(m, t, k) for m, t, k, _ in recorded.incidents] == [("listener", "globex", "deadline")]


def test_a_service_call_target_sleeping_in_wasi_is_abandoned_with_its_caller(
    recorded: Recorded, testkit_dir: Path, listener_dir: Path
) -> None:
    runtime = recorded.runtime
    listener = dataclasses.replace(load(runtime, listener_dir), service_names=("nap",))
    runtime.resolve_module = {"listener": listener}.get
    manifest = load_manifest(testkit_dir)
    caller = runtime.load_image(
        manifest.model_copy(update={"dependencies": {"listener": "^1.0.0"}}), testkit_dir
    )
    answer = call(runtime, caller, "/call", target="listener.nap")
    # The caller's time went to the host call (the service): the host's overload, not its incident.
    assert answer.status in (503, 504)
    wait_for(
        lambda: (
            runtime.stats.abandoned == 1
            and runtime.bulkhead.busy("testkit") == 0
            and runtime.pool.live_for("acme", "testkit") == 0
            and runtime.pool.live_for("acme", "listener") == 0
        ),
        timeout=WELL_BEFORE_THE_SLEEP_ENDS,
        message="the caller's slot and both instances to be given back",
    )
    assert runtime.pool.stats.abandoned == 2  # the caller's instance and the target's
    assert call(runtime, caller, "/whoami").status == 200


def test_a_host_quarantines_the_module_that_would_block_more_threads_than_its_cap(
    sqlite_project: Project, testkit_dir: Path, hello_dir: Path
) -> None:
    """Wired through the host: the quarantine is recorded and refused calls say why."""
    install_modules(sqlite_project, hello_dir, testkit_dir)
    config = sqlite_project.load_config()
    config.host.max_abandoned_threads = 1
    config.host.incident_threshold = 100  # only the cap may quarantine here
    sqlite_project.save_config(config)
    host = ModuleHost(sqlite_project)
    try:
        host.reconcile()
        headers = tenant_headers(host, "acme")
        with TestClient(create_app(sqlite_project, host)) as client:
            for abandoned in (1, 2):
                # An instance ready (the last one was abandoned): only the sleep is the module's time.
                assert client.get("/api/modules/testkit/whoami", headers=headers).status_code == 200
                slept = client.get("/api/modules/testkit/sleep", params={"ms": SLEEP}, headers=headers)
                assert slept.status_code == 504
                wait_for(
                    lambda n=abandoned: host.runtime.stats.abandoned == n, timeout=WELL_BEFORE_THE_SLEEP_ENDS
                )
            wait_for(
                lambda: host.states["testkit"].status == "quarantined", timeout=WELL_BEFORE_THE_SLEEP_ENDS
            )
            refused = client.get("/api/modules/testkit/whoami", headers=headers)
            assert refused.status_code == 503
            assert "host.maxAbandonedThreads (1)" in refused.json()["reason"]
            assert "tenant acme" in refused.json()["reason"]
            assert client.get("/api/modules/hello/v1/hits", headers=headers).status_code == 200
        kinds = [(e.action, e.rule) for e in reversed(host.audit.entries("testkit"))]
    finally:
        host.close()
    assert kinds[-3:] == [("incident", "deadline"), ("incident", "deadline"), ("quarantined", None)]
