"""The SDK's router and response helpers, in plain CPython (no component needed)."""

from __future__ import annotations

import json
from collections.abc import Callable

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


def test_an_exact_literal_route_wins_over_parameters_and_yields_to_them_for_another_method() -> None:
    module = Module("shop")
    module.get("/v1/items/{item_id}")(lambda request: Response.json({"param": request.path_params}))
    module.get("/v1/items/special")(lambda request: Response.json({"literal": request.path_params}))
    module.delete("/v1/items/{item_id}")(lambda request: Response.json({"deleted": request.path_params}))

    special = module.handle(make_request("GET", "/v1/items/special"))
    assert json.loads(special.body) == {"literal": {}}
    # The literal route has no DELETE: the parameter route that has one answers, as before.
    deleted = module.handle(make_request("DELETE", "/v1/items/special"))
    assert json.loads(deleted.body) == {"deleted": {"item_id": "special"}}
    other = module.handle(make_request("GET", "/v1/items/7"))
    assert json.loads(other.body) == {"param": {"item_id": "7"}}
    # Neither a literal nor a parameter route for this method: 405 naming every method there is.
    refused = module.handle(make_request("PUT", "/v1/items/special"))
    assert refused.status == 405 and dict(refused.headers)["allow"] == "DELETE, GET"


def test_the_route_sees_only_its_own_path_params_whatever_the_request_carried() -> None:
    from dataclasses import replace

    module = Module("shop")
    module.get("/v1/ping")(lambda request: Response.json(request.path_params))
    module.get("/v1/items/{item_id}")(lambda request: Response.json(request.path_params))

    stale = {"item_id": "stale"}
    assert json.loads(module.handle(replace(make_request("GET", "/v1/ping"), path_params=stale)).body) == {}
    moved = module.handle(replace(make_request("GET", "/v1/items/9"), path_params=stale))
    assert json.loads(moved.body) == {"item_id": "9"}


def test_dispatch_answers_as_trying_every_route_would() -> None:
    """The router only tries the routes a path's first segment allows: the same answers as trying
    each route in turn, the most specific winning and the first added between equals."""
    patterns = [
        ("GET", "/v1/items"),
        ("GET", "/v1/items/{id}"),
        ("POST", "/v1/items/{id}"),
        ("GET", "/{version}/items/{id}"),
        ("GET", "/{version}/health"),
        ("DELETE", "/v1/{kind}/{id}"),
        ("GET", "/v2/items/{id}"),
        ("GET", "/{file}.json"),
        ("GET", "/report.json"),
        ("GET", "/"),
        ("PUT", "/{anything}"),
        ("GET", "/v1/items/{id}"),  # a duplicate: the first one added answers
    ]
    module = Module("shop")

    def answering(index: int) -> Callable[[Request], Response]:
        return lambda request: Response.json([index, request.path_params])

    for index, (method, pattern) in enumerate(patterns):
        module.route(method, pattern)(answering(index))

    def every_route_tried(method: str, path: str) -> tuple[int, object]:
        from trafi_sdk.routing import compile_pattern, specificity

        best = None
        allowed = set()
        for index, (route_method, pattern) in enumerate(patterns):
            match = compile_pattern(pattern).fullmatch(path)
            if match is None:
                continue
            if route_method != method:
                allowed.add(route_method)
                continue
            if best is None or specificity(pattern) > specificity(patterns[best[0]][1]):
                best = (index, match.groupdict())
        if best is not None:
            return 200, list(best)
        return (405, ", ".join(sorted(allowed))) if allowed else (404, None)

    paths = [
        "/v1/items",
        "/v1/items/7",
        "/v2/items/7",
        "/v3/items/7",
        "/v3/health",
        "/v1/orders/3",
        "/x.json",
        "/report.json",
        "/",
        "/v1",
        "/nothing/here",
        "",
        "v1/items",
        "/v1/items/7/",
    ]
    for path in paths:
        for method in ("GET", "POST", "PUT", "DELETE"):
            got = module.handle(make_request(method, path))
            expected = every_route_tried(method, path)
            if expected[0] == 200:
                assert (got.status, json.loads(got.body)) == expected, (method, path)
            elif expected[0] == 405:
                assert (got.status, dict(got.headers)["allow"]) == expected, (method, path)
            else:
                assert got.status == 404, (method, path)


def test_the_request_a_parameterised_route_sees_equals_one_built_through_replace() -> None:
    from dataclasses import replace

    seen: list[Request] = []
    module = Module("shop")
    module.get("/v1/items/{item_id}")(lambda request: seen.append(request) or Response.text("ok"))
    original = make_request("GET", "/v1/items/9", body=b"{}")
    module.handle(original)
    assert seen[0] == replace(original, path_params={"item_id": "9"})
    assert list(vars(seen[0])) == list(vars(original))  # the fields in the constructor's order
    assert original.path_params == {}  # the caller's request is not changed
    with pytest.raises(AttributeError):
        seen[0].path = "/elsewhere"  # type: ignore[misc]  # still frozen
