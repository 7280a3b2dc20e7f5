"""The faster value conversion gives the same values as wasmtime-py's own, for every shape we use."""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
from pathlib import Path

import pytest
from wasmtime import _ffi as ffi
from wasmtime.component import _types

from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.manifest.load import load_manifest
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal, wasmtime_conversion


@pytest.fixture(scope="module")
def runtime(shared_artifact_cache: Path) -> ModuleRuntime:
    return ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv()))


@pytest.mark.parametrize("payload", [b"", bytes(range(256)), os.urandom(100 * 1024)])
def test_bytes_cross_the_boundary_unchanged(
    runtime: ModuleRuntime, testkit_dir: Path, payload: bytes
) -> None:
    image = runtime.load_image(load_manifest(testkit_dir), testkit_dir)
    request = ModuleRequest("POST", "/echo", "acme", Principal("k"), body=payload)
    response = asyncio.run(runtime.call_http(image, request))
    assert response.status == 200
    assert response.body == payload


def byte_list_type(runtime: ModuleRuntime, testkit_dir: Path) -> _types.ListType:
    """The `list<u8>` type object of `http-request.body`, as the runtime sees it."""
    image = runtime.load_image(load_manifest(testkit_dir), testkit_dir)
    instance = runtime.instantiate(image, "t")
    request_type = instance.exports.handle.type(instance.store).params[0][1]
    body_type = dict(request_type.fields)["body"]
    instance.close()
    assert isinstance(body_type, _types.ListType)
    return body_type


@pytest.mark.parametrize("payload", [b"", b"\x00\xff", bytes(range(256)) * 3])
def test_fast_bytes_match_the_library_element_by_element(
    runtime: ModuleRuntime, testkit_dir: Path, payload: bytes
) -> None:
    body_type = byte_list_type(runtime, testkit_dir)
    fast = ffi.wasmtime_component_val_t()
    slow = ffi.wasmtime_component_val_t()
    body_type.convert_to_c(None, payload, ctypes.pointer(fast))  # type: ignore[arg-type]
    wasmtime_conversion._list_convert_to_c(body_type, None, payload, ctypes.pointer(slow))
    # Lift each with the other implementation: both directions agree with the library.
    assert wasmtime_conversion._list_convert_from_c(body_type, fast) == payload
    assert body_type.convert_from_c(slow) == payload


def test_results_options_enums_and_counters_round_trip(runtime: ModuleRuntime, hello_dir: Path) -> None:
    # hello uses config.get (option<string>), kv.increment (result<s64>), kv.get
    # (result<list<u8>> ok and not-found err) and log (enum level).
    image = runtime.load_image(load_manifest(hello_dir), hello_dir, {"greeting": "hej"})

    def call(path: str, method: str = "GET") -> dict[str, object]:
        response = asyncio.run(runtime.call_http(image, ModuleRequest(method, path, "acme", Principal("k"))))
        assert response.status == 200, response.body
        data: dict[str, object] = json.loads(response.body)
        return data

    assert call("/v1/hits/current") == {"tenant": "acme", "hits": 0}
    assert call("/v1/hits") == {"greeting": "hej", "tenant": "acme", "hits": 1}
    assert call("/v1/hits/current") == {"tenant": "acme", "hits": 1}
    assert call("/v1/hits", "DELETE") == {"tenant": "acme", "hits": 0}
    assert call("/v1/hits/current")["hits"] == 0
