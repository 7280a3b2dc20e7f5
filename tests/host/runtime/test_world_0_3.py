"""World 0.3.0 through the runtime: bytes carried in strings both ways (every byte value, 1 MiB),
kv values, a body that is not bytes, the caller's permissions, typed routes and views."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.manifest.load import load_manifest
from trafi_host.runtime import ModuleImage, ModuleRequest, ModuleResponse, ModuleRuntime, Principal

# Generous: a 1 MiB body crosses in milliseconds, but the machine may be busy.
DEADLINE_S = 30.0
MIB = 1 << 20


@pytest.fixture
def kit(runtime: ModuleRuntime, worldkit_dir: Path) -> ModuleImage:
    image = runtime.load_image(load_manifest(worldkit_dir), worldkit_dir)
    return image.offering(runtime.trial_start(image, host_capabilities(MemoryKv())))


def call(
    runtime: ModuleRuntime, image: ModuleImage, method: str, path: str, body: bytes = b"", **principal: Any
) -> ModuleResponse:
    request = ModuleRequest(method, path, "acme", Principal("key-1", **principal), body=body)
    return runtime.call_http_blocking(image, request, time.monotonic() + DEADLINE_S)


def test_every_byte_value_crosses_both_ways(runtime: ModuleRuntime, kit: ModuleImage) -> None:
    every_byte = bytes(range(256)) * 4
    response = call(runtime, kit, "POST", "/echo", every_byte)
    assert (response.status, response.body) == (200, every_byte)


def test_a_1_mib_body_crosses_in_and_out(runtime: ModuleRuntime, kit: ModuleImage) -> None:
    body = bytes(index % 251 for index in range(MIB))
    response = call(runtime, kit, "POST", "/echo", body)
    assert response.failure is None
    assert (response.status, len(response.body), response.body == body) == (200, MIB, True)


def test_a_1_mib_kv_value_round_trips(runtime: ModuleRuntime, kit: ModuleImage) -> None:
    value = bytes(reversed(range(256))) * (MIB // 256)
    assert call(runtime, kit, "PUT", "/kv/big", value).status == 204
    response = call(runtime, kit, "GET", "/kv/big")
    assert (response.status, response.body == value) == (200, True)


def test_a_kv_value_that_is_not_bytes_is_an_invalid_argument(
    runtime: ModuleRuntime, kit: ModuleImage
) -> None:
    answer = json.loads(call(runtime, kit, "GET", "/kv-not-bytes").body)
    assert answer["error"] == "HostError_InvalidArgument"
    assert "U+20AC" in answer["message"] and "'bad'" in answer["message"]


def test_a_response_body_that_is_not_bytes_is_the_hosts_500(
    runtime: ModuleRuntime, kit: ModuleImage, caplog: pytest.LogCaptureFixture
) -> None:
    response = call(runtime, kit, "GET", "/not-bytes")
    assert (response.status, response.failure) == (500, "bad-response")
    assert json.loads(response.body)["kind"] == "bad-response"
    assert "code point U+20AC" in caplog.text and "response body" in caplog.text
    # The instance is not poisoned by it: the next call is served.
    assert call(runtime, kit, "POST", "/echo", b"ok").body == b"ok"


def test_the_principal_carries_the_resolved_permissions(runtime: ModuleRuntime, kit: ModuleImage) -> None:
    response = call(
        runtime,
        kit,
        "GET",
        "/whoami",
        scopes=("worldkit:inspect",),
        permissions=("modules:read", "worldkit:inspect", "points:use"),
    )
    assert json.loads(response.body) == {
        "scopes": ["worldkit:inspect"],
        "permissions": ["modules:read", "worldkit:inspect", "points:use"],
    }


def test_a_typed_route_parses_its_body_and_answers_json(runtime: ModuleRuntime, kit: ModuleImage) -> None:
    award = {"customer": "c1", "points": 5, "lines": [{"sku": "MUG-1", "quantity": 2}]}
    response = call(runtime, kit, "POST", "/v1/awards", json.dumps(award).encode())
    assert (response.status, json.loads(response.body)) == (200, {"customer": "c1", "points": 5})
    assert json.loads(call(runtime, kit, "GET", "/v1/balances/c1").body) == {"customer": "c1", "points": 5}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer": "c1"}, "points"),
        ({"customer": "c1", "points": "five"}, "points"),
        ({"customer": "c1", "points": 1, "reason": "theft"}, "reason"),
        ({"customer": "c1", "points": 1, "lines": [{"sku": 3, "quantity": 1}]}, "lines[0].sku"),
        ({"customer": "c1", "points": 1, "bonus": True}, "bonus"),
    ],
    ids=["missing", "wrong-type", "not-a-literal", "nested", "unknown"],
)
def test_a_typed_body_that_does_not_match_is_a_400_naming_the_field(
    runtime: ModuleRuntime, kit: ModuleImage, body: dict[str, Any], field: str
) -> None:
    response = call(runtime, kit, "POST", "/v1/awards", json.dumps(body).encode())
    answer = json.loads(response.body)
    assert (response.status, answer["field"]) == (400, field)
    assert field in answer["error"]


def test_the_declared_routes_carry_versions_permissions_and_schemas(kit: ModuleImage) -> None:
    routes = {(route.method, route.path): route for route in kit.declarations.routes}
    award = routes["POST", "/v1/awards"]
    assert (award.version, award.permission, award.summary) == ("v1", "inspect", "Award points")
    assert award.request_schema is not None and award.response_schema is not None
    assert award.request_schema["required"] == ["customer", "points"]
    assert award.request_schema["$defs"]["Line"]["properties"]["quantity"] == {"type": "integer"}
    assert award.response_schema["properties"] == {
        "customer": {"type": "string"},
        "points": {"type": "integer"},
    }
    assert routes["POST", "/echo"].version == "" and routes["POST", "/echo"].request_schema is None
    views = {view.id: view for view in kit.declarations.views}
    assert (views["overview"].nav_label, views["overview"].permission) == ("World kit", "inspect")
    assert (views["broken"].nav_label, views["broken"].permission) == ("Broken", None)


def test_a_view_renders_its_ui_tree_through_the_runtime(runtime: ModuleRuntime, kit: ModuleImage) -> None:
    principal = Principal("user-1", "user", permissions=("worldkit:inspect",))
    result = asyncio.run(runtime.call_view(kit, "overview", "acme", principal, (("customer", "c9"),)))
    assert result.ok, result.text
    tree = json.loads(result.text)
    assert tree["schema"] == "trafi-ui/1"
    assert tree["root"]["title"] == "Tenant acme"
    assert [child["text"] for child in tree["root"]["children"]] == ["customer=c9", "worldkit:inspect"]


def test_a_view_that_raises_is_an_error_naming_the_file_and_line(
    runtime: ModuleRuntime, kit: ModuleImage
) -> None:
    result = asyncio.run(runtime.call_view(kit, "broken", "acme", Principal("user-1", "user")))
    assert (result.ok, result.failure) == (False, None)
    assert result.text.startswith("RuntimeError: this view is broken at app.py:")


def test_a_view_not_declared_is_not_rendered(runtime: ModuleRuntime, kit: ModuleImage) -> None:
    result = asyncio.run(runtime.call_view(kit, "nowhere", "acme", Principal("user-1", "user")))
    assert (result.ok, result.failure) == (False, "no-view")
    assert "declares no view 'nowhere'" in result.text


def test_a_view_past_its_deadline_is_answered_by_then(runtime: ModuleRuntime, kit: ModuleImage) -> None:
    # A deadline already past: the host answers without the module, as its own overload.
    result = asyncio.run(
        runtime.call_view(kit, "overview", "acme", Principal("user-1", "user"), deadline=time.monotonic())
    )
    assert (result.ok, result.failure) == (False, "overload")


def test_a_view_spinning_past_its_deadline_is_the_modules_deadline_and_an_incident(
    worldkit_dir: Path, shared_artifact_cache: Path
) -> None:
    incidents: list[tuple[str, str, str, str]] = []
    with ModuleRuntime(
        shared_artifact_cache,
        host_capabilities(MemoryKv()),
        on_incident=lambda *incident: incidents.append(incident),
    ) as runtime:
        image = runtime.load_image(load_manifest(worldkit_dir), worldkit_dir)
        image = image.offering(runtime.trial_start(image, host_capabilities(MemoryKv())))
        result = asyncio.run(
            runtime.call_view(image, "spin", "acme", Principal("u"), deadline=time.monotonic() + 1.0)
        )
        assert (result.ok, result.failure) == (False, "deadline")
        assert "did not render" in result.text
        # Another view of the same tenant still renders: the spinning instance was dropped.
        assert asyncio.run(runtime.call_view(image, "overview", "acme", Principal("u"))).ok
    assert ("worldkit", "acme", "deadline", "view spin") in incidents
