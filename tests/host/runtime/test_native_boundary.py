"""The C call boundary (runtime/native/) gives what wasmtime-py's path gives, field by field.

Each test runs the same call on two instances of the same component, one calling its exports
through the extension and one through wasmtime-py, and compares the lifted values, the
exceptions of traps and deadlines, and what the instance is fit for afterwards.
"""

from __future__ import annotations

import ctypes
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wasmtime
from wasmtime import _ffi as ffi

from tests.host.runtime.test_call_timing import product_created
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.manifest.load import load_manifest
from trafi_host.runtime import HostLimits, ModuleRequest, ModuleRuntime, Principal
from trafi_host.runtime.instance import ModuleInstance
from trafi_host.runtime.module_runtime import _trap_kind
from trafi_host.runtime.native import build, calls
from trafi_host.settings import SettingsError, native_boundary_mode
from trafi_host.wit_values import field


@pytest.fixture(scope="module")
def runtimes(shared_artifact_cache: Path) -> Iterator[tuple[ModuleRuntime, ModuleRuntime]]:
    build.build_if_stale()
    native = ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv()), native_boundary="on")
    python = ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv()), native_boundary="off")
    assert native.native is not None and python.native is None
    yield native, python
    native.close()
    python.close()


def pair(
    runtimes: tuple[ModuleRuntime, ModuleRuntime], folder: Path
) -> tuple[ModuleInstance, ModuleInstance]:
    """A started instance of the module in `folder` on each path."""
    started = []
    for runtime in runtimes:
        image = runtime.load_image(load_manifest(folder), folder)
        instance = runtime.instantiate(image, "acme")
        assert instance.init(5_000) is None
        started.append(instance)
    native, python = started
    assert set(native.native_funcs) == {f for f in vars(native.exports).values() if f is not None}
    assert python.native_funcs == {}
    return native, python


def fields(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    status, headers, body = field(response, "status"), field(response, "headers"), field(response, "body")
    assert type(status) is int and type(headers) is list and type(body) is bytes
    assert all(
        type(pair) is tuple and len(pair) == 2 and all(type(x) is str for x in pair) for pair in headers
    )
    return status, headers, body


def same_answer(instances: tuple[ModuleInstance, ModuleInstance], request: ModuleRequest) -> Any:
    native, python = (fields(i.handle(i.world.request(request), 10_000)) for i in instances)
    assert native == python
    return native


def request(method: str, path: str, body: bytes = b"", **extra: Any) -> ModuleRequest:
    return ModuleRequest(
        method, path, "acme", Principal("key-1", scopes=("testkit:inspect",)), body=body, **extra
    )


def test_the_c_structures_match_the_wheel_s_own_declarations() -> None:
    build.build_if_stale()
    layout = calls.native_calls("on").extension.layout()  # type: ignore[union-attr]
    val = ffi.wasmtime_component_val_t
    assert layout == {
        "val_size": ctypes.sizeof(val),
        "val_kind_offset": val.kind.offset,
        "val_of_offset": val.of.offset,
        "union_size": ctypes.sizeof(ffi.wasmtime_component_valunion_t),
        "record_entry_size": ctypes.sizeof(ffi.wasmtime_component_valrecord_entry_t),
        "record_entry_val_offset": ffi.wasmtime_component_valrecord_entry_t.val.offset,
        "variant_val_offset": ffi.wasmtime_component_valvariant_t.val.offset,
        "result_val_offset": ffi.wasmtime_component_valresult_t.val.offset,
        "func_size": ctypes.sizeof(ffi.wasmtime_component_func_t),
        "name_size": ctypes.sizeof(ffi.wasm_name_t),
        "name_data_offset": ffi.wasm_name_t.data.offset,
        "list_data_offset": ffi.wasmtime_component_vallist_t.data.offset,
    }


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def test_every_method_gets_the_same_answer(
    runtimes: tuple[ModuleRuntime, ModuleRuntime], testkit_dir: Path, method: str
) -> None:
    instances = pair(runtimes, testkit_dir)
    for path in ("/echo", "/noop", "/whoami", "/nowhere"):
        same_answer(instances, request(method, path, b"payload"))


def test_bodies_of_every_size_and_byte_value_cross_unchanged(
    runtimes: tuple[ModuleRuntime, ModuleRuntime], testkit_dir: Path
) -> None:
    instances = pair(runtimes, testkit_dir)
    for body in (b"", b"\x00", bytes(range(256)) * 4, os.urandom(100 * 1024), os.urandom(1 << 20)):
        assert same_answer(instances, request("POST", "/echo", body))[2] == body


def test_unicode_headers_queries_and_principals_arrive_the_same(
    runtimes: tuple[ModuleRuntime, ModuleRuntime], testkit_dir: Path
) -> None:
    instances = pair(runtimes, testkit_dir)
    headers = (("x-name", "Zoë ✓ 日本 🙂"), ("x-empty", ""), *((f"x-{i}", "v" * i) for i in range(40)))
    status, _, body = same_answer(instances, request("GET", "/headers", headers=headers))
    assert status == 200 and json.loads(body)["headers"] == [list(h) for h in headers]
    same_answer(instances, request("GET", "/compute", query=(("n", "25"), ("ü", "✓"), ("n", ""))))
    principal = Principal("ключ", kind="session", scopes=("testkit:inspect", "ä:*", ""))
    same_answer(instances, ModuleRequest("GET", "/whoami", "tenant-ü", principal))


def test_module_chosen_statuses_and_headers_and_kv_round_trips(
    runtimes: tuple[ModuleRuntime, ModuleRuntime], testkit_dir: Path
) -> None:
    instances = pair(runtimes, testkit_dir)
    asked = {"status": 418, "headers": [["x-teapot", "Ünïcode ☕"], ["set-cookie", "a=b"]]}
    assert same_answer(instances, request("POST", "/respond", json.dumps(asked).encode()))[0] == 418
    same_answer(instances, request("PUT", "/kv/k-ü", bytes(range(256))))
    same_answer(instances, request("GET", "/kv/k-ü"))
    same_answer(instances, request("GET", "/kv/missing"))
    same_answer(instances, request("GET", "/raise"))  # the SDK's 500, not a trap
    # Host imports through C: a result<string, host-error> error case, the log enum, an option.
    same_answer(instances, request("GET", "/call", query=(("target", "nowhere.get"),)))
    same_answer(instances, request("GET", "/flood", query=(("lines", "3"),)))


def outcome(instance: ModuleInstance, path: str, timeout_ms: float) -> tuple[type, str, str, bool]:
    with pytest.raises(wasmtime.WasmtimeError) as raised:
        instance.handle(instance.world.request(request("GET", path)), timeout_ms)
    text = str(raised.value).strip()
    return type(raised.value), _trap_kind(raised.value), text.splitlines()[-1], instance.healthy


@pytest.mark.parametrize(
    ("path", "timeout_ms", "kind"), [("/trap", 5_000, "trap"), ("/spin", 300, "deadline")]
)
def test_traps_and_deadlines_surface_as_the_same_exception(
    runtimes: tuple[ModuleRuntime, ModuleRuntime], testkit_dir: Path, path: str, timeout_ms: float, kind: str
) -> None:
    native, python = pair(runtimes, testkit_dir)
    through_c = outcome(native, path, timeout_ms)
    assert through_c == outcome(python, path, timeout_ms)
    assert through_c[1] == kind and through_c[3] is False  # poisoned: never entered again


def test_the_c_call_sets_the_fuel_afresh_for_every_call_as_wasmtime_py_does(
    shared_artifact_cache: Path, testkit_dir: Path
) -> None:
    """The per-call limits set inside the C call (not by wasmtime-py before it) behave the same:
    each call starts with its whole budget, and a busy loop runs out of fuel on both paths."""
    limits = HostLimits(fuel_per_call=200_000_000)
    metered = [
        ModuleRuntime(
            shared_artifact_cache, host_capabilities(MemoryKv()), limits=limits, native_boundary=mode
        )
        for mode in ("on", "off")
    ]
    try:
        native, python = pair((metered[0], metered[1]), testkit_dir)
        for _ in range(30):  # 30 calls use far more than one budget: refilled every call
            same_answer((native, python), request("GET", "/whoami"))
        through_c = outcome(native, "/spin", 60_000)
        assert through_c == outcome(python, "/spin", 60_000)
        assert through_c[1] == "fuel"
    finally:
        for runtime in metered:
            runtime.close()


def test_a_value_of_the_wrong_type_is_refused_before_the_call_and_the_instance_stays_usable(
    runtimes: tuple[ModuleRuntime, ModuleRuntime], testkit_dir: Path
) -> None:
    for instance in pair(runtimes, testkit_dir):
        bad = instance.world.request(request("POST", "/echo", b"x"))
        bad.body = "not bytes"
        with pytest.raises(TypeError, match="expected bytes value"):
            instance.handle(bad, 5_000)
        instance.healthy = True  # a refused lowering never entered wasm: the instance is intact
        assert (
            fields(instance.handle(instance.world.request(request("POST", "/echo", b"ok")), 5_000))[2]
            == b"ok"
        )


def raw_answer(instance: ModuleInstance, request: ModuleRequest) -> tuple[int, list[tuple[str, str]], str]:
    response = instance.handle(instance.world.request(request), 10_000)
    status, headers, body = field(response, "status"), field(response, "headers"), field(response, "body")
    assert type(body) is str  # world 0.3.0: bytes carried in a string
    return status, headers, body


def test_world_0_3_string_bodies_of_every_byte_value_cross_the_same(
    runtimes: tuple[ModuleRuntime, ModuleRuntime], worldkit_dir: Path
) -> None:
    native, python = pair(runtimes, worldkit_dir)
    every_byte = bytes(range(256)) * 400  # 100 KB
    for body in (b"", b"\x00", every_byte):
        answer = raw_answer(native, request("POST", "/echo", body))
        assert answer == raw_answer(python, request("POST", "/echo", body))
        assert native.world.lift_body(answer[2], "the response body") == body
    for instance in (native, python):
        assert raw_answer(instance, request("PUT", "/kv/every", every_byte))[0] == 204
    assert raw_answer(native, request("GET", "/kv/every")) == raw_answer(python, request("GET", "/kv/every"))
    # A guest answering a code point above U+00FF: the same string reaches the adapter, which refuses it.
    assert raw_answer(native, request("GET", "/not-bytes")) == raw_answer(
        python, request("GET", "/not-bytes")
    )
    assert native.declared(10_000) == python.declared(10_000)


def test_lifecycle_services_and_events_give_the_same_values(
    runtimes: tuple[ModuleRuntime, ModuleRuntime], listener_dir: Path
) -> None:
    native, python = pair(runtimes, listener_dir)
    assert native.service_names(5_000) == python.service_names(5_000)
    assert native.call_service("missing", "get", "{}", 5_000) == python.call_service(
        "missing", "get", "{}", 5_000
    )
    for name in ("fine", "raise"):
        assert native.handle_event(product_created(name), 5_000) == python.handle_event(  # type: ignore[arg-type]
            product_created(name),  # type: ignore[arg-type]
            5_000,
        )
    native.destroy(5_000)
    python.destroy(5_000)


def test_the_setting_is_checked_and_off_means_wasmtime_py() -> None:
    assert native_boundary_mode({}) == "auto"
    assert native_boundary_mode({"TRAFI_NATIVE_BOUNDARY": "OFF"}) == "off"
    with pytest.raises(SettingsError, match="TRAFI_NATIVE_BOUNDARY='fast'"):
        native_boundary_mode({"TRAFI_NATIVE_BOUNDARY": "fast"})
    assert calls.native_calls("off") is None


def test_a_stale_build_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    built = build.build(tmp_path / build.extension_path().name)
    assert build.built_digest(built) == build.source_digest()
    # As if boundary.c had been edited since the build: `on` refuses, `auto` falls back.
    monkeypatch.setattr(calls, "source_digest", lambda: "0" * 16)
    monkeypatch.setattr(calls, "_resolved", {})
    with pytest.raises(calls.NativeBoundaryUnavailable, match=r"older than runtime/native/boundary\.c"):
        calls.native_calls("on")
    assert calls.native_calls("auto") is None


def test_a_closed_instance_refuses_calls_on_both_paths(
    runtimes: tuple[ModuleRuntime, ModuleRuntime], testkit_dir: Path
) -> None:
    for instance in pair(runtimes, testkit_dir):
        instance.close()
        with pytest.raises(ValueError, match="already closed"):
            instance.handle(instance.world.request(request("GET", "/noop")), 5_000)
