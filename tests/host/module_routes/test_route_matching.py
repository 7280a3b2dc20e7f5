"""Declared routes as the host matches them: patterns, precedence, 404/405, conflicts, and the
same choice as the SDK's router (the handler that runs is the route whose permission was checked)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from trafi_host.module_routes.access import access_for, declares_routes, route_permission
from trafi_host.module_routes.pattern import RoutePattern, RoutePatternError
from trafi_host.module_routes.table import NoRoute, RouteConflict, RouteMatch, RouteTable
from trafi_host.runtime.declarations import DeclaredRoute
from trafi_sdk import Module, Principal, Request, Response


def route(method: str, path: str, permission: str | None = None) -> DeclaredRoute:
    version = path.split("/")[1] if path.split("/")[1].startswith("v") else ""
    return DeclaredRoute(method, path, version, permission=permission)


ROUTES = (
    route("GET", "/v1/items/{id}"),
    route("GET", "/v1/items/export", "export"),
    route("DELETE", "/v1/items/{id}", "admin"),
    route("GET", "/v1/files/{name}.json"),
    route("GET", "/v1/files/{name}"),
    route("GET", "/v1/{kind}/{id}/notes"),
    route("GET", "/v1/items/{id}/notes", "notes"),
    route("GET", "/"),
)
TABLE = RouteTable.build("shop", ROUTES)


def resolved(method: str, path: str) -> str:
    found = TABLE.resolve(method, path)
    assert isinstance(found, RouteMatch), found
    return found.route.path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/items/7", "/v1/items/{id}"),
        ("/v1/items/export", "/v1/items/export"),  # a literal beats a parameter, whatever the order
        ("/v1/files/a.json", "/v1/files/{name}.json"),  # text and a parameter beat a bare parameter
        ("/v1/files/a.txt", "/v1/files/{name}"),
        ("/v1/items/7/notes", "/v1/items/{id}/notes"),  # the leftmost difference decides
        ("/v1/orders/7/notes", "/v1/{kind}/{id}/notes"),
        ("/", "/"),
    ],
)
def test_the_most_specific_route_wins(path: str, expected: str) -> None:
    assert resolved("GET", path) == expected


def test_parameters_are_read_from_the_path() -> None:
    found = TABLE.resolve("GET", "/v1/files/report.json")
    assert isinstance(found, RouteMatch) and found.parameters == {"name": "report"}


@pytest.mark.parametrize(
    "path", ["/v1/items", "/v1/items/", "/v1/items/7/", "/v2/items/7", "/v1/items/export/x"]
)
def test_a_path_no_route_has_is_a_404(path: str) -> None:
    assert TABLE.resolve("GET", path) == NoRoute(())


def test_a_path_other_methods_have_is_a_405_naming_them() -> None:
    assert TABLE.resolve("PUT", "/v1/items/7") == NoRoute(("DELETE", "GET"))
    # The literal route has only GET, but DELETE /v1/items/{id} matches the path too.
    assert resolved("DELETE", "/v1/items/export") == "/v1/items/{id}"


def test_routes_differing_only_in_parameter_names_conflict() -> None:
    with pytest.raises(RouteConflict, match=r"GET /v1/items/\{id\} and GET /v1/items/\{sku\}"):
        RouteTable.build("shop", (route("GET", "/v1/items/{id}"), route("GET", "/v1/items/{sku}")))
    # Another method is another route.
    RouteTable.build("shop", (route("GET", "/v1/items/{id}"), route("PUT", "/v1/items/{sku}")))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("v1/items", "must start with '/'"),
        ("/v1/{id}/{id}", "names the parameter 'id' twice"),
        ("/v1/{1x}", "brace that is not a `{name}` parameter"),
        ("/v1/items}", "brace that is not a `{name}` parameter"),
    ],
)
def test_bad_patterns_are_refused_naming_the_path(path: str, message: str) -> None:
    with pytest.raises(RoutePatternError, match=message.replace("{", r"\{").replace("}", r"\}")):
        RoutePattern.parse(path)
    with pytest.raises(RouteConflict, match=f"module shop: route GET {path}"):
        RouteTable.build("shop", (route("GET", path),))


def test_required_permissions() -> None:
    def needs(method: str, path: str) -> str:
        return access_for("shop", "0.3.0", TABLE, method, path).permission

    assert needs("GET", "/v1/items/7") == "shop:use"
    assert needs("GET", "/v1/items/export") == "shop:export"
    assert needs("DELETE", "/v1/items/7") == "shop:admin"
    assert needs("GET", "/v1/items/7/notes") == "shop:notes"
    missing = access_for("shop", "0.3.0", TABLE, "GET", "/v9/nothing")
    assert missing.missing == NoRoute(()) and missing.match is None
    # An older world declares nothing: everything reaches its handler under the base permission.
    older = access_for("shop", "0.2.0", TABLE, "GET", "/v9/nothing")
    assert (older.permission, older.match, older.missing) == ("shop:use", None, None)
    assert route_permission("shop", None) == "shop:use"


def test_worlds_that_declare_routes() -> None:
    assert [declares_routes(v) for v in ("0.1.0", "0.2.0", "0.3.0", "0.10.0", "1.0.0")] == [
        False,
        False,
        True,
        True,
        True,
    ]


def _answering(pattern: str) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        return Response.text(pattern)

    return handler


# Paths against which the SDK's router and the host's table must choose the same route.
AGREEMENT_PATHS = [
    "/v1/items/7",
    "/v1/items/export",
    "/v1/items/export\n",
    "/v1/files/a.json",
    "/v1/files/a.txt",
    "/v1/files/.json",
    "/v1/items/7/notes",
    "/v1/orders/7/notes",
    "/v1/items/",
    "/",
    "/v1/items/a%2Fb",
]


@pytest.mark.parametrize("registration", ["declared", "reversed"])
@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_the_sdk_router_picks_the_route_the_host_checked(registration: str, method: str) -> None:
    declared = ROUTES if registration == "declared" else tuple(reversed(ROUTES))
    table = RouteTable.build("shop", declared)
    module = Module("shop")
    for one in declared:
        module.route(one.method, one.path)(_answering(one.path))
    for path in AGREEMENT_PATHS:
        answer = module.handle(
            Request(method=method, path=path, tenant_id="t", principal=Principal("k", "api-key"))
        )
        host = table.resolve(method, path)
        if isinstance(host, RouteMatch):
            assert (answer.status, answer.body.decode()) == (200, host.route.path), path
        else:
            assert answer.status == (405 if host.allowed else 404), path
