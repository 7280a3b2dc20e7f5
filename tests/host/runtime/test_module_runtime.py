"""The runtime contains a module: deadline, memory cap, traps, per-tenant state, pooling."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from pathlib import Path

import pytest

from tests.polling import wait_for
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.kv.sql_store import SqlKv
from trafi_host.capabilities.log.budget import LogBudget
from trafi_host.capabilities.log.host import LogCapability
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.db import Database
from trafi_host.errors import ComponentError, ModuleStartError
from trafi_host.manifest.load import load_manifest
from trafi_host.runtime import ModuleImage, ModuleRequest, ModuleResponse, ModuleRuntime, Principal


def request(path: str, tenant: str = "acme", method: str = "GET", body: bytes = b"") -> ModuleRequest:
    return ModuleRequest(method, path, tenant, Principal("key-1"), body=body)


def call(runtime: ModuleRuntime, image: ModuleImage, req: ModuleRequest) -> ModuleResponse:
    return asyncio.run(runtime.call_http(image, req))


def body(response: ModuleResponse) -> dict[str, object]:
    data: dict[str, object] = json.loads(response.body)
    return data


@pytest.fixture
def testkit(runtime: ModuleRuntime, testkit_dir: Path) -> ModuleImage:
    return runtime.load_image(load_manifest(testkit_dir), testkit_dir)


def test_busy_loop_is_stopped_by_the_deadline_and_the_host_keeps_serving(
    runtime: ModuleRuntime, testkit: ModuleImage
) -> None:
    spun = call(runtime, testkit, request("/spin"))
    assert spun.status == 504
    assert spun.failure == "deadline"
    assert body(spun)["errorId"] == spun.error_id
    assert call(runtime, testkit, request("/whoami")).status == 200


def test_memory_bomb_is_stopped_by_the_cap_and_the_host_keeps_serving(
    runtime: ModuleRuntime, testkit: ModuleImage
) -> None:
    bombed = call(runtime, testkit, request("/bomb"))
    # The cap makes memory.grow fail: the guest sees MemoryError (or traps).
    assert (bombed.status, bombed.failure) == (500, "memory")
    assert "x-trafi-recycle" not in dict(bombed.headers)  # the SDK's note to the host, not the client's
    created = runtime.pool.stats.created
    # The instance that ran out of memory is retired: the next call gets a fresh one.
    assert call(runtime, testkit, request("/whoami")).status == 200
    assert runtime.pool.stats.created == created + 1


def test_trap_drops_the_instance_and_the_next_call_gets_a_fresh_one(
    runtime: ModuleRuntime, testkit: ModuleImage
) -> None:
    assert call(runtime, testkit, request("/whoami")).status == 200
    created = runtime.pool.stats.created
    trapped = call(runtime, testkit, request("/trap"))
    assert trapped.status == 500
    assert trapped.failure == "trap"
    assert trapped.error_id and body(trapped)["errorId"] == trapped.error_id
    assert runtime.pool.stats.dropped_unhealthy == 1
    assert call(runtime, testkit, request("/whoami")).status == 200
    assert runtime.pool.stats.created == created + 1


def test_module_exception_in_dev_is_a_500_naming_file_and_line(
    shared_artifact_cache: Path, testkit_dir: Path
) -> None:
    with ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv()), dev=True) as dev:
        image = dev.load_image(load_manifest(testkit_dir), testkit_dir)
        response = call(dev, image, request("/raise"))
    assert response.status == 500
    where = body(response)["where"]
    assert isinstance(where, dict)
    assert where["file"] == "app.py"
    assert where["function"] == "fail"
    assert body(response)["error"] == "ValueError: handler bug"


def test_module_exception_outside_dev_shows_an_error_id_and_logs_the_details(
    runtime: ModuleRuntime, testkit: ModuleImage, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="trafi.runtime"):
        response = call(runtime, testkit, request("/raise"))
    assert response.status == 500
    data = body(response)
    # The client learns that the module failed and the id to quote; nothing of its code.
    assert data == {
        "error": "module testkit failed (module-exception); see the host log",
        "kind": "module-exception",
        "errorId": response.error_id,
    }
    assert "handler bug" not in response.body.decode() and "app.py" not in response.body.decode()
    logged = [
        r.getMessage() for r in caplog.records if response.error_id and response.error_id in r.getMessage()
    ]
    assert len(logged) == 1
    assert "ValueError: handler bug at app.py:" in logged[0] and "in fail" in logged[0]
    # The module's bug is not the host's trap: no incident, the instance keeps serving.
    assert response.failure is None
    assert runtime.stats.traps == 0
    assert call(runtime, testkit, request("/whoami")).status == 200


def test_a_module_own_500_is_not_rewritten(runtime: ModuleRuntime, testkit: ModuleImage) -> None:
    req = ModuleRequest("POST", "/respond", "acme", Principal("k"), body=b'{"status": 500}')
    response = call(runtime, testkit, req)
    assert (response.status, response.body) == (500, b"answer")


def test_sleeping_guest_is_answered_at_the_deadline(runtime: ModuleRuntime, testkit: ModuleImage) -> None:
    # time.sleep blocks inside a WASI host call, out of reach of the epoch; the
    # caller still gets its answer when the deadline passes.
    req = ModuleRequest("GET", "/sleep", "acme", Principal("k"), query=(("ms", "5000"),))
    response = call(runtime, testkit, req)
    assert response.status == 504


def test_concurrent_calls_for_one_tenant_use_separate_instances(
    runtime: ModuleRuntime, testkit: ModuleImage
) -> None:
    async def two_at_once() -> list[ModuleResponse]:
        slow = ModuleRequest("GET", "/sleep", "acme", Principal("k"), query=(("ms", "300"),))
        return list(await asyncio.gather(runtime.call_http(testkit, slow), runtime.call_http(testkit, slow)))

    responses = asyncio.run(two_at_once())
    assert [r.status for r in responses] == [200, 200]
    assert runtime.pool.live_for("acme", "testkit") == 2


def test_instances_are_bounded_by_the_lru(shared_artifact_cache: Path, testkit_dir: Path) -> None:
    from trafi_host.runtime import HostLimits

    runtime = ModuleRuntime(
        shared_artifact_cache, host_capabilities(MemoryKv()), limits=HostLimits(max_live_instances=3)
    )
    try:
        image = runtime.load_image(load_manifest(testkit_dir), testkit_dir)
        for tenant in ["t1", "t2", "t3", "t4", "t5"]:
            assert call(runtime, image, request("/whoami", tenant)).status == 200
        assert runtime.pool.live == 3
        assert runtime.pool.stats.evicted == 2
    finally:
        runtime.close()


def test_init_failure_is_reported_with_the_reason(runtime: ModuleRuntime, testkit_dir: Path) -> None:
    image = runtime.load_image(load_manifest(testkit_dir), testkit_dir, {"failInit": "raise"})
    response = call(runtime, image, request("/whoami"))
    assert response.status == 500
    assert response.failure == "init-failed"
    with pytest.raises(ModuleStartError, match="init refused"):
        runtime.trial_start(image, host_capabilities(MemoryKv()))


def test_init_trap_is_reported(runtime: ModuleRuntime, testkit_dir: Path) -> None:
    image = runtime.load_image(load_manifest(testkit_dir), testkit_dir, {"failInit": "exit"})
    with pytest.raises(ModuleStartError, match="init trapped"):
        runtime.trial_start(image, host_capabilities(MemoryKv()))


def test_artifact_cache_means_a_second_start_does_not_compile(tmp_path: Path, hello_dir: Path) -> None:
    manifest = load_manifest(hello_dir)
    first = ModuleRuntime(tmp_path / "cache", host_capabilities(MemoryKv()))
    try:
        first.load_image(manifest, hello_dir)
        assert first.artifacts.compiles == 1
    finally:
        first.close()
    second = ModuleRuntime(tmp_path / "cache", host_capabilities(MemoryKv()))
    try:
        second.load_image(manifest, hello_dir)
        assert second.artifacts.compiles == 0
        assert second.artifacts.hits == 1
    finally:
        second.close()


def test_not_a_component_is_refused(runtime: ModuleRuntime, tmp_path: Path, hello_dir: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "hello.wasm").write_bytes(b"\0asm not really")
    with pytest.raises(ComponentError, match="not a valid WebAssembly component"):
        runtime.load_image(load_manifest(hello_dir), tmp_path)


def test_kv_is_isolated_per_tenant_in_the_database(
    database_url: str, shared_artifact_cache: Path, testkit_dir: Path
) -> None:
    database = Database(database_url)
    database.migrate()
    runtime = ModuleRuntime(shared_artifact_cache, host_capabilities(SqlKv(database)))
    try:
        image = runtime.load_image(load_manifest(testkit_dir), testkit_dir)
        put = request("/kv/secret", "acme", "PUT", b"acme-only")
        assert call(runtime, image, put).status == 200
        assert body(call(runtime, image, request("/kv/secret", "acme"))) == {"value": "acme-only"}
        assert body(call(runtime, image, request("/kv/secret", "globex"))) == {"value": None}
    finally:
        runtime.close()
        database.close()


def test_a_module_blocking_its_workers_cannot_starve_another_module(
    shared_artifact_cache: Path, testkit_dir: Path, hello_dir: Path
) -> None:
    runtime = ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv()), workers=4)
    try:
        testkit = runtime.load_image(load_manifest(testkit_dir), testkit_dir)
        hello = runtime.load_image(load_manifest(hello_dir), hello_dir)

        def sleeper(tenant: str) -> ModuleRequest:
            return ModuleRequest("GET", "/sleep", tenant, Principal("k"), query=(("ms", "3000"),))

        async def scenario() -> tuple[list[ModuleResponse], ModuleResponse, int]:
            # More blocked calls than testkit's share of workers (2 of 4; 1 per tenant) ...
            stuck = [
                asyncio.create_task(runtime.call_http(testkit, sleeper(tenant)))
                for tenant in ("acme", "globex", "acme", "globex")
            ]
            # Polled from a thread: the calls need this event loop to take their slots.
            busy = await asyncio.to_thread(
                wait_for,
                lambda: (taken := runtime.bulkhead.busy("testkit")) >= 2 and taken,
                message="testkit's calls to take their share of the workers",
            )
            # ... and hello is still served at once, by the workers testkit may not take.
            served = await runtime.call_http(hello, request("/v1/hits"))
            return list(await asyncio.gather(*stuck)), served, busy

        stuck, served, busy = asyncio.run(scenario())
        assert busy == 2
        assert served.status == 200
        # The two that ran slept past their deadline (504, the module's doing); the two that
        # waited for a slot until theirs are the host's overload (503 with Retry-After).
        assert sorted((r.status, r.failure) for r in stuck) == [
            (503, "overload"),
            (503, "overload"),
            (504, "deadline"),
            (504, "deadline"),
        ]
        assert all(("retry-after", "1") in r.headers for r in stuck if r.status == 503)
    finally:
        runtime.close()


def test_instances_are_retired_before_returned_bytes_fill_their_memory(
    runtime: ModuleRuntime, testkit: ModuleImage
) -> None:
    # testkit's cap is 48 MB; without retirement the guest runs out after ~375 of these.
    payload = b"x" * 100 * 1024
    statuses = {
        call(runtime, testkit, request("/echo", method="POST", body=payload)).status for _ in range(500)
    }
    assert statuses == {200}
    assert runtime.pool.stats.retired >= 3
    assert runtime.pool.stats.dropped_unhealthy == 0


def test_deep_recursion_is_an_error_not_a_crash(runtime: ModuleRuntime, testkit: ModuleImage) -> None:
    response = call(runtime, testkit, request("/recurse"))
    assert response.status == 500
    # A RecursionError the SDK catches is the module's exception (its text in the log, outside dev).
    assert body(response).get("kind") == "module-exception" or response.failure == "trap"
    assert call(runtime, testkit, request("/whoami")).status == 200


def test_an_oversized_module_response_is_not_forwarded(
    shared_artifact_cache: Path, testkit_dir: Path
) -> None:
    from trafi_host.runtime import HostLimits

    runtime = ModuleRuntime(
        shared_artifact_cache, host_capabilities(MemoryKv()), limits=HostLimits(max_response_bytes=256 << 10)
    )
    try:
        image = runtime.load_image(load_manifest(testkit_dir), testkit_dir)
        req = ModuleRequest("GET", "/huge", "acme", Principal("k"), query=(("mb", "1"),))
        response = call(runtime, image, req)
        assert response.status == 502
        assert response.failure == "oversized-response"
        assert len(response.body) < 1000
    finally:
        runtime.close()


def test_a_log_flood_is_cut_and_counted(
    shared_artifact_cache: Path, testkit_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []
    runtime = ModuleRuntime(
        shared_artifact_cache, host_capabilities(MemoryKv()), on_incident=lambda m, t, kind, d: seen.append(d)
    )
    try:
        image = runtime.load_image(load_manifest(testkit_dir), testkit_dir)
        with caplog.at_level("INFO", logger="trafi.module.testkit"):
            assert call(runtime, image, request("/flood")).status == 200
    finally:
        runtime.close()
    lines = [r for r in caplog.records if r.name == "trafi.module.testkit"]
    assert len(lines) == 201  # 200 lines, then one note
    assert "log flood" in lines[-1].getMessage()
    assert seen == ["log: more than 200 lines in one call"]


def test_a_module_logging_under_the_per_call_cap_in_every_call_is_cut_by_its_byte_rate(
    shared_artifact_cache: Path, testkit_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[str, str]] = []
    budget = LogBudget(bytes_per_second=0.01, burst_bytes=2_000)
    capabilities = tuple(
        LogCapability(budget) if isinstance(c, LogCapability) else c for c in host_capabilities(MemoryKv())
    )
    runtime = ModuleRuntime(
        shared_artifact_cache, capabilities, on_incident=lambda m, t, kind, d: seen.append((t, d))
    )
    try:
        image = runtime.load_image(load_manifest(testkit_dir), testkit_dir)
        with caplog.at_level("INFO", logger="trafi.module.testkit"):
            for _ in range(20):  # 150 lines each: under the per-call cap of 200
                flood = ModuleRequest("GET", "/flood", "acme", Principal("key-1"), query=(("lines", "150"),))
                assert call(runtime, image, flood).status == 200
    finally:
        runtime.close()
    written = sum(
        r.getMessage().count("flood line") for r in caplog.records if r.name == "trafi.module.testkit"
    )
    assert written < 200  # about 2,000 bytes of ~20-byte lines, not 3,000 lines
    assert budget.dropped_lines()[("testkit", "acme")] == 3000 - written
    assert seen == [("acme", "log: more than 0.01 bytes/s sustained")]


def test_optional_fuel_stops_a_busy_loop_before_the_deadline(
    shared_artifact_cache: Path, testkit_dir: Path
) -> None:
    from trafi_host.runtime import HostLimits

    runtime = ModuleRuntime(
        shared_artifact_cache, host_capabilities(MemoryKv()), limits=HostLimits(fuel_per_call=200_000_000)
    )
    try:
        assert runtime.settings.consume_fuel  # part of the artifact key: compiled separately
        image = runtime.load_image(load_manifest(testkit_dir), testkit_dir)
        assert call(runtime, image, request("/whoami")).status == 200
        spun = call(runtime, image, request("/spin"))
        # "fuel", not "deadline": the budget ran out before the 1 s deadline did.
        assert spun.status == 504 and spun.failure == "fuel"
        assert call(runtime, image, request("/whoami")).status == 200
    finally:
        runtime.close()


def test_closing_the_runtime_stops_a_guest_still_running(
    shared_artifact_cache: Path, testkit_dir: Path
) -> None:
    # A spinning guest whose deadline is far away: once the epoch stops moving it would
    # spin forever and keep the process from exiting (the test run hung after its summary).
    runtime = ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv()))
    image = runtime.load_image(load_manifest(testkit_dir), testkit_dir)
    done = threading.Event()

    def spin() -> None:
        try:
            runtime.call_http_blocking(image, request("/spin"), time.monotonic() + 60)
        except Exception:  # noqa: BLE001 - stopped while starting is stopped too
            pass
        finally:
            done.set()

    worker = threading.Thread(target=spin, daemon=True)
    worker.start()
    wait_for(lambda: runtime.pool.live >= 1, message="the spinning call to start")
    runtime.close()
    assert done.wait(60), "the guest kept running after the runtime closed"


def test_a_response_too_large_for_the_boundary_is_a_502_that_names_the_cause(
    shared_artifact_cache: Path, testkit_dir: Path
) -> None:
    from trafi_host.runtime import HostLimits

    seen: list[tuple[str, str]] = []
    runtime = ModuleRuntime(
        shared_artifact_cache,
        host_capabilities(MemoryKv()),
        # More than list<u8> carries: world 0.1's ceiling keeps the cap at 1.5 MiB, and a 4 MiB
        # answer traps while it is lifted, before any size check.
        limits=HostLimits(max_response_bytes=64 << 20),
        on_incident=lambda m, t, kind, d: seen.append((kind, d)),
    )
    try:
        image = runtime.load_image(load_manifest(testkit_dir), testkit_dir)
        huge = ModuleRequest("GET", "/huge", "acme", Principal("key-1"), query=(("mb", "4"),))
        response = call(runtime, image, huge)
        fine = call(
            runtime, image, ModuleRequest("GET", "/huge", "acme", Principal("key-1"), query=(("mb", "1"),))
        )
    finally:
        runtime.close()
    assert (response.status, response.failure) == (502, "oversized-response")
    assert [kind for kind, _ in seen] == ["oversized-response"]
    assert body(response)["error"] == "module testkit failed (oversized-response); see the host log"
    assert (fine.status, len(fine.body)) == (200, 1 << 20)
