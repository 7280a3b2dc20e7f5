"""Whose deadline was it: the module's own code, or the host's waiting (queues, host calls)?

Only the first is an incident; the second is the host's overload, answered 503
with Retry-After and counted, never held against the module.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.polling import wait_for
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.events.outbox import Event
from trafi_host.events.wit_payload import event_record
from trafi_host.manifest.load import load_manifest
from trafi_host.runtime import ModuleImage, ModuleRequest, ModuleResponse, ModuleRuntime, Principal
from trafi_host.runtime.call_timing import CallTiming

Incident = tuple[str, str, str]  # module, tenant, kind


def get(path: str, tenant: str = "acme", **query: str) -> ModuleRequest:
    return ModuleRequest("GET", path, tenant, Principal("k"), query=tuple(query.items()))


class BlockingKv(MemoryKv):
    """A kv whose reads wait until released: a host call stuck behind a busy database."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def get(self, tenant: str, module: str, key: str) -> bytes | None:
        self.entered.set()
        self.release.wait(30)
        return super().get(tenant, module, key)

    def set(self, tenant: str, module: str, key: str, value: bytes) -> None:
        self.entered.set()
        self.release.wait(30)
        super().set(tenant, module, key, value)


def recording_runtime(
    cache: Path, workers: int, kv: MemoryKv | None = None
) -> tuple[ModuleRuntime, list[Incident]]:
    incidents: list[Incident] = []
    runtime = ModuleRuntime(
        cache,
        host_capabilities(kv or MemoryKv()),
        workers=workers,
        on_incident=lambda module, tenant, kind, detail: incidents.append((module, tenant, kind)),
    )
    return runtime, incidents


@pytest.fixture
def small(shared_artifact_cache: Path) -> Iterator[tuple[ModuleRuntime, list[Incident]]]:
    """Two wasm workers: one slot per module, so a second call waits for the first."""
    runtime, incidents = recording_runtime(shared_artifact_cache, workers=2)
    yield runtime, incidents
    runtime.close()


def load_testkit(runtime: ModuleRuntime, testkit_dir: Path) -> ModuleImage:
    return runtime.load_image(load_manifest(testkit_dir), testkit_dir)


def ready_testkit(runtime: ModuleRuntime, testkit_dir: Path) -> ModuleImage:
    """testkit loaded, with an instance started by a first call."""
    image = load_testkit(runtime, testkit_dir)
    assert burst(runtime, image, [get("/whoami")])[0].status == 200
    return image


def burst(runtime: ModuleRuntime, image: ModuleImage, requests: list[ModuleRequest]) -> list[ModuleResponse]:
    async def all_at_once() -> list[ModuleResponse]:
        return list(await asyncio.gather(*(runtime.call_http(image, r) for r in requests)))

    return asyncio.run(all_at_once())


def test_a_burst_that_waits_past_its_deadline_is_the_hosts_overload_not_an_incident(
    small: tuple[ModuleRuntime, list[Incident]], testkit_dir: Path
) -> None:
    runtime, incidents = small
    image = ready_testkit(runtime, testkit_dir)
    # 100 ms each through one worker slot, 1 s deadline: most wait in the queue past it.
    responses = burst(runtime, image, [get("/sleep", ms="100") for _ in range(30)])
    statuses = [r.status for r in responses]
    assert set(statuses) <= {200, 503}, statuses
    overloaded = [r for r in responses if r.status == 503]
    assert overloaded, "some calls should have waited past their deadline"
    assert all(r.failure == "overload" and ("retry-after", "1") in r.headers for r in overloaded)
    assert b"overloaded" in overloaded[0].body
    assert incidents == []
    assert runtime.stats.overloads == len(overloaded)
    assert runtime.stats.by_failure == {"overload": len(overloaded)}
    assert runtime.stats.deadline_hits == 0
    assert runtime.module_stats.failures == {("testkit", "overload"): len(overloaded)}


def test_calls_queued_for_the_slot_are_started_by_the_worker_that_frees_it(
    small: tuple[ModuleRuntime, list[Incident]], testkit_dir: Path
) -> None:
    runtime, incidents = small
    image = ready_testkit(runtime, testkit_dir)
    # The first holds the only slot for 100 ms; the other two queue for it, and each is started
    # by the worker thread ending the call before it, with no trip through the event loop.
    responses = burst(runtime, image, [get("/sleep", ms="100") for _ in range(3)])
    assert [r.status for r in responses] == [200, 200, 200]
    assert runtime.threads.stats.followed == 2
    assert runtime.bulkhead.busy("testkit") == 0 and incidents == []


def test_a_queued_call_whose_caller_goes_away_is_never_run(
    small: tuple[ModuleRuntime, list[Incident]], testkit_dir: Path
) -> None:
    runtime, incidents = small
    image = ready_testkit(runtime, testkit_dir)
    calls_before = runtime.stats.calls

    async def scenario() -> int:
        holding = asyncio.ensure_future(runtime.call_http(image, get("/sleep", ms="300")))
        await asyncio.sleep(0)  # it takes the only slot
        queued = asyncio.ensure_future(runtime.call_http(image, get("/whoami")))
        await asyncio.sleep(0.05)
        queued.cancel()  # its client went away while it waited for the slot
        with pytest.raises(asyncio.CancelledError):
            await queued
        return (await holding).status

    assert asyncio.run(scenario()) == 200
    assert runtime.stats.calls == calls_before + 1  # the cancelled one never reached a guest
    assert runtime.bulkhead.rejected == 1 and runtime.bulkhead.busy("testkit") == 0
    assert incidents == []


def test_a_guest_that_spins_to_its_deadline_is_an_incident(
    small: tuple[ModuleRuntime, list[Incident]], testkit_dir: Path
) -> None:
    runtime, incidents = small
    image = load_testkit(runtime, testkit_dir)
    [spun] = burst(runtime, image, [get("/spin", tenant="globex")])
    assert (spun.status, spun.failure) == (504, "deadline")
    assert incidents == [("testkit", "globex", "deadline")]
    assert runtime.stats.deadline_hits == 1


def test_a_spinner_is_counted_and_the_call_queued_behind_it_is_not(
    small: tuple[ModuleRuntime, list[Incident]], testkit_dir: Path
) -> None:
    runtime, incidents = small
    image = load_testkit(runtime, testkit_dir)
    # The first holds the only slot with its own code until the deadline; the second waits
    # for that slot, and its deadline (as long as the first's) passes while it waits.
    first, second = burst(runtime, image, [get("/spin"), get("/spin")])
    assert sorted((r.status, r.failure) for r in (first, second)) == [(503, "overload"), (504, "deadline")]
    assert incidents == [("testkit", "acme", "deadline")]


def test_a_deadline_spent_inside_a_slow_host_call_is_not_the_modules(
    shared_artifact_cache: Path, testkit_dir: Path
) -> None:
    kv = BlockingKv()
    runtime, incidents = recording_runtime(shared_artifact_cache, workers=4, kv=kv)
    try:
        image = load_testkit(runtime, testkit_dir)
        [response] = burst(runtime, image, [get("/kv/x")])  # the read outlasts the 1 s deadline
        kv.release.set()
        assert kv.entered.is_set()
        assert (response.status, response.failure) == (503, "overload")
        assert incidents == []
        # The guest finishes once its host call returns and the worker frees its slot.
        wait_for(lambda: runtime.bulkhead.busy("testkit") == 0, message="the stuck call to end")
    finally:
        kv.release.set()
        runtime.close()


def test_a_refused_host_call_and_a_trap_still_count_under_load(
    small: tuple[ModuleRuntime, list[Incident]], testkit_dir: Path
) -> None:
    runtime, incidents = small
    image = load_testkit(runtime, testkit_dir)
    [trapped] = burst(runtime, image, [get("/trap", tenant="globex")])
    assert (trapped.status, trapped.failure) == (500, "trap")
    assert incidents == [("testkit", "globex", "trap")]


def product_created(name: str) -> object:
    """The WIT record of a `product.created` event; the listener module sleeps 2 s on `slow`."""
    payload: dict[str, object] = {
        "product_id": "prd_1",
        "sku": "MUG-1",
        "name": name,
        "price_cents": 1250,
        "currency": "EUR",
    }
    return event_record(
        Event(
            id=str(uuid.uuid4()),
            type="product.created",
            tenant="acme",
            occurred_at=datetime.now(UTC),
            version=1,
            source="core",
            payload=payload,
        )
    )


SYNC_BUDGET = 0.25  # the sync event deadline


def test_sync_event_handlers_are_judged_by_where_their_time_went(
    shared_artifact_cache: Path, listener_dir: Path
) -> None:
    kv = BlockingKv()
    runtime, incidents = recording_runtime(shared_artifact_cache, workers=4, kv=kv)
    try:
        image = runtime.load_image(load_manifest(listener_dir), listener_dir)
        kv.release.set()
        assert (
            runtime.deliver_event_blocking(image, product_created("x"), "acme", time.monotonic() + 3) is None
        )

        # Dispatched, then queued for a worker until its deadline had passed: the host's.
        late = runtime.deliver_event_blocking(
            image, product_created("x"), "acme", time.monotonic() - 0.01, SYNC_BUDGET
        )
        assert late is not None and late.startswith("host overloaded")
        # Its kv write stuck behind a busy store past the deadline: the host's too.
        kv.release.clear()
        threading.Timer(4 * SYNC_BUDGET, kv.release.set).start()
        stuck = runtime.deliver_event_blocking(
            image, product_created("x"), "acme", time.monotonic() + SYNC_BUDGET, SYNC_BUDGET
        )
        assert stuck is not None and stuck.startswith("host overloaded"), stuck
        assert incidents == []
        assert runtime.stats.overloads == 2

        # Sleeping 2 s in its own code with a 250 ms deadline: the module's.
        kv.release.set()
        slept = runtime.deliver_event_blocking(
            image, product_created("slow"), "globex", time.monotonic() + SYNC_BUDGET, SYNC_BUDGET
        )
        assert slept is not None and slept.startswith("handler deadline"), slept
        assert incidents == [("listener", "globex", "deadline")]
    finally:
        kv.release.set()
        runtime.close()


def test_where_the_time_went() -> None:
    timing = CallTiming(budget=1.0, created=10.0)
    assert timing.waited(now=10.4) == pytest.approx(0.4)
    assert timing.guest_seconds(now=10.4) == 0.0
    assert not timing.module_at_fault(now=11.0)  # never started: all waiting
    timing.guest_started = 10.2
    timing.host_seconds = 0.5
    timing.host_since = 10.9  # a host call still running
    # 0.8 s in the guest, of which 0.5 + 0.1 in host calls: 0.2 s of its own.
    assert timing.guest_seconds(now=11.0) == pytest.approx(0.2)
    assert not timing.module_at_fault(now=11.0)
    timing.host_since = None
    timing.guest_ended = 11.0
    timing.host_seconds = 0.0
    assert timing.module_at_fault(now=99.0)  # 0.8 s of its own code, ended at the deadline
    assert "module code 800 ms of a 1000 ms budget" in timing.describe(now=99.0)
