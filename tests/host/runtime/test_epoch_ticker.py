"""The epoch ticker: from a C thread that never takes the GIL with the C boundary, a Python thread
without it; either one stops with its runtime."""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import wasmtime

from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.manifest.load import load_manifest
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal
from trafi_host.runtime.native import build


def ticker_threads() -> set[int]:
    """Thread ids of the threads named trafi-epoch: the C ticker names its OS thread, the Python
    one its Thread."""
    in_c = set()
    for task in os.listdir("/proc/self/task"):
        try:
            if Path(f"/proc/self/task/{task}/comm").read_text().strip() == "trafi-epoch":
                in_c.add(int(task))
        except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
            continue
    in_python = {t.native_id for t in threading.enumerate() if t.name == "trafi-epoch" and t.native_id}
    return in_c | in_python


def new_ticker(before: set[int]) -> int:
    """The one ticker thread started since `before` was taken (named before its start returned)."""
    (started,) = ticker_threads() - before
    return started


def ended(thread: int) -> bool:
    """Whether the thread is gone, waiting up to ten seconds: a joined thread's /proc entry
    outlives the join by a moment (the kernel wakes the joiner before it reaps the thread)."""
    until = time.monotonic() + 10
    while thread in ticker_threads() and time.monotonic() < until:
        time.sleep(0.01)
    return thread not in ticker_threads()


@pytest.fixture(params=["on", "off"])
def runtime(request: pytest.FixtureRequest, shared_artifact_cache: Path) -> Iterator[ModuleRuntime]:
    if request.param == "on":
        build.build_if_stale()
    runtime = ModuleRuntime(
        shared_artifact_cache, host_capabilities(MemoryKv()), native_boundary=request.param
    )
    yield runtime
    runtime.close()


def test_the_ticker_runs_in_c_with_the_c_boundary_and_in_python_without(runtime: ModuleRuntime) -> None:
    assert runtime.ticker.in_c == (runtime.native is not None)


def test_the_ticker_stops_with_its_runtime(shared_artifact_cache: Path) -> None:
    for mode in ("on", "off"):
        before = ticker_threads()
        runtime = ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv()), native_boundary=mode)
        ticker = new_ticker(before)
        runtime.close()
        assert ended(ticker)
        runtime.ticker.stop()  # twice is harmless


def test_deadlines_advance_while_a_thread_holds_the_gil(runtime: ModuleRuntime, testkit_dir: Path) -> None:
    """A store's deadline is met however busy the host's Python is: with the C ticker the epoch
    moves while this thread keeps the GIL; the Python ticker needs the GIL for each tick."""
    image = runtime.load_image(load_manifest(testkit_dir), testkit_dir)
    instance = runtime.instantiate(image, "t", host_capabilities(MemoryKv()))
    record = image.world.request(ModuleRequest("GET", "/noop", "t", Principal("k")))
    try:
        instance.store.set_epoch_deadline(10)  # ten ticks from now: 50 ms
        switch = sys.getswitchinterval()
        sys.setswitchinterval(60)  # no other Python thread gets the GIL from this one meanwhile
        try:
            until = time.perf_counter() + 0.5  # 100 ticks, without releasing the GIL once
            while time.perf_counter() < until:
                pass
        finally:
            sys.setswitchinterval(switch)
        if runtime.ticker.in_c:
            with pytest.raises(wasmtime.WasmtimeError, match="interrupt"):
                instance.exports.handle(instance.store, record)
        else:
            # The Python ticker waited for the GIL all along (a tick or two at most, before the
            # loop and as the call releases it): the call still had time. Given the GIL long
            # enough to tick past the deadline, it stops the same call.
            assert instance.exports.handle(instance.store, record) is not None
            instance.exports.handle.post_return(instance.store)
            instance.store.set_epoch_deadline(10)
            time.sleep(0.5)
            with pytest.raises(wasmtime.WasmtimeError, match="interrupt"):
                instance.exports.handle(instance.store, record)
    finally:
        instance.close()


def test_a_ticker_refuses_a_null_engine_or_a_tick_that_is_not_positive(shared_artifact_cache: Path) -> None:
    build.build_if_stale()
    runtime = ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv()), native_boundary="on")
    try:
        assert runtime.native is not None
        extension = runtime.native.extension
        with pytest.raises(ValueError, match="a null engine"):
            extension.ticker_start(0, 5000)
        address = ctypes.cast(runtime.engine.ptr(), ctypes.c_void_p).value
        with pytest.raises(ValueError, match="the tick must be positive"):
            extension.ticker_start(address, 0)
        before = ticker_threads()
        stop = runtime.native.start_ticker(runtime.engine, 5)
        ticker = new_ticker(before)
        stop()
        stop()  # twice is harmless
        assert ended(ticker)
    finally:
        runtime.close()
