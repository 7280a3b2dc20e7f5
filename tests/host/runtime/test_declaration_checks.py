"""A 0.3.0 module whose declarations are malformed fails its load, each problem named with the
module, the route or view and what is wrong (the worldkit fixture declares what its config says)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.manifest.load import load_manifest
from trafi_host.runtime import ModuleRuntime
from trafi_host.runtime.declaration_reading import DeclarationError


def route(**fields: Any) -> dict[str, Any]:
    return {"method": "GET", "path": "/v1/items", "version": "v1", **fields}


def view(**fields: Any) -> dict[str, Any]:
    return {"id": "overview", "title": "Overview", "nav_label": "Overview", **fields}


CASES = [
    pytest.param(
        {"declaredRoutes": [route(method="FETCH")]},
        "route FETCH /v1/items: method 'FETCH' is not one of GET, POST, PUT, PATCH, DELETE",
        id="bad-method",
    ),
    pytest.param(
        {"declaredRoutes": [route(method="get")]},
        "route get /v1/items: method 'get' is not one of",
        id="lower-case-method",
    ),
    pytest.param(
        {"declaredRoutes": [route(path="v1/items")]},
        "route GET v1/items: the path does not start with '/'",
        id="path-without-slash",
    ),
    pytest.param(
        {"declaredRoutes": [route(path="/v1/{item")]},
        "route GET /v1/{item: path segment '{item' is neither literal text nor one {parameter}",
        id="bad-path-parameter",
    ),
    pytest.param(
        {"declaredRoutes": [route(version="v2")]},
        "route GET /v1/items: version 'v2' is not the path's first segment ('v1')",
        id="version-not-first-segment",
    ),
    pytest.param(
        {"declaredRoutes": [route(path="/beta/items", version="beta")]},
        "route GET /beta/items: version 'beta' is not v<number>",
        id="version-not-v-number",
    ),
    pytest.param(
        {"declaredRoutes": [route(request_schema=[1])]},
        "route GET /v1/items: the request schema is not a JSON object",
        id="schema-not-an-object",
    ),
    pytest.param(
        {"declaredRoutes": [route(permission="launch")]},
        "route GET /v1/items: permission 'launch' is not declared in the manifest's apiPermissions "
        "as 'worldkit:launch' (declared: worldkit:inspect)",
        id="undeclared-route-permission",
    ),
    pytest.param(
        {"declaredRoutes": [route(permission="worldkit:inspect")]},
        "permission 'worldkit:inspect' must be named without the module prefix",
        id="prefixed-permission",
    ),
    pytest.param(
        {"declaredRoutes": [route(), route(summary="again")]},
        "route GET /v1/items: declared twice",
        id="duplicate-route",
    ),
    pytest.param(
        {"declaredViews": [view(id="Overview")]},
        "view 'Overview': the id is not [a-z][a-z0-9-]*",
        id="bad-view-id",
    ),
    pytest.param(
        {"declaredViews": [view(), view(title="Again")]},
        "view 'overview': declared twice",
        id="duplicate-view",
    ),
    pytest.param(
        {"declaredViews": [view(permission="launch")]},
        "view 'overview': permission 'launch' is not declared in the manifest's apiPermissions",
        id="undeclared-view-permission",
    ),
]


@pytest.mark.parametrize(("config", "problem"), CASES)
def test_a_malformed_declaration_fails_the_load(
    runtime: ModuleRuntime, worldkit_dir: Path, config: dict[str, Any], problem: str
) -> None:
    image = runtime.load_image(load_manifest(worldkit_dir), worldkit_dir, config)
    with pytest.raises(DeclarationError) as refused:
        runtime.trial_start(image, host_capabilities(MemoryKv()))
    message = str(refused.value)
    assert message.startswith("module worldkit: malformed declarations: ")
    assert problem in message


def test_every_problem_is_named_not_only_the_first(runtime: ModuleRuntime, worldkit_dir: Path) -> None:
    config = {"declaredRoutes": [route(method="FETCH")], "declaredViews": [view(id="Bad View")]}
    image = runtime.load_image(load_manifest(worldkit_dir), worldkit_dir, config)
    with pytest.raises(DeclarationError, match=r"route FETCH /v1/items: .*; view 'Bad View': "):
        runtime.trial_start(image, host_capabilities(MemoryKv()))


def test_well_formed_declarations_are_read(runtime: ModuleRuntime, worldkit_dir: Path) -> None:
    config = {
        "declaredRoutes": [route(permission="inspect", request_schema={"type": "object"}), route(path="/")],
        "declaredViews": [view()],
    }
    config["declaredRoutes"][1]["version"] = ""
    image = runtime.load_image(load_manifest(worldkit_dir), worldkit_dir, config)
    declarations = runtime.trial_start(image, host_capabilities(MemoryKv())).declarations
    assert [(r.method, r.path, r.version, r.permission) for r in declarations.routes] == [
        ("GET", "/v1/items", "v1", "inspect"),
        ("GET", "/", "", None),
    ]
    assert declarations.routes[0].request_schema == {"type": "object"}
    assert [v.id for v in declarations.views] == ["overview"]
