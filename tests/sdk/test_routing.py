"""The SDK's router and response helpers, in plain CPython (no component needed)."""

from __future__ import annotations

import json

import pytest

from trafi_sdk import Module, Request, Response
from trafi_sdk.errors import NotInComponent
from trafi_sdk.routing import compile_pattern


def make_request(method: str, path: str, body: bytes = b"") -> Request:
    from trafi_sdk import Principal

    return Request(method=method, path=path, tenant_id="acme", principal=Principal("k", "api-key"), body=body)


def test_routes_match_method_and_path_params() -> None:
    module = Module("shop")

    @module.get("/v1/items/{item_id}")
    def item(request: Request) -> Response:
        return Response.json({"id": request.path_params["item_id"]})

    @module.post("/v1/items")
    def create(request: Request) -> Response:
        return Response.json(request.json(), status=201)

    got = module.handle(make_request("GET", "/v1/items/42"))
    assert (got.status, json.loads(got.body)) == (200, {"id": "42"})
    created = module.handle(make_request("POST", "/v1/items", b'{"name": "mug"}'))
    assert (created.status, json.loads(created.body)) == (201, {"name": "mug"})


def test_wrong_method_is_405_with_allow_and_unknown_path_is_404() -> None:
    module = Module("shop")
    module.get("/v1/ping")(lambda request: Response.text("pong"))
    not_allowed = module.handle(make_request("DELETE", "/v1/ping"))
    assert not_allowed.status == 405
    assert ("allow", "GET") in not_allowed.headers
    assert module.handle(make_request("GET", "/v1/nope")).status == 404


def test_path_params_do_not_cross_segments() -> None:
    pattern = compile_pattern("/v1/items/{id}")
    assert pattern.match("/v1/items/7")
    assert not pattern.match("/v1/items/7/extra")
    with pytest.raises(ValueError, match="must start with '/'"):
        compile_pattern("v1/items")


def test_request_helpers() -> None:
    from trafi_sdk import Principal

    request = Request(
        method="GET",
        path="/",
        tenant_id="acme",
        principal=Principal("k"),
        query=(("page", "2"),),
        headers=(("x-trace", "abc"),),
    )
    assert request.query_param("page") == "2"
    assert request.header("X-Trace") == "abc"
    assert request.json() is None


def test_host_imports_outside_a_component_say_so() -> None:
    from trafi_sdk import kv

    with pytest.raises(NotInComponent, match="only available inside a built component"):
        kv.get("x")
