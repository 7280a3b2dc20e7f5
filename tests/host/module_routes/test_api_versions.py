"""`apiVersions` in the manifest and the headers a deprecated version's responses carry."""

from __future__ import annotations

from typing import Any

import pytest

from tests.host.manifest.test_manifest import VALID, problems
from trafi_host.manifest.load import parse_manifest
from trafi_host.module_routes.deprecation import deprecation_headers
from trafi_host.module_routes.table import RouteMatch, RouteTable
from trafi_host.runtime.declarations import DeclaredRoute

V1_DEPRECATED: dict[str, Any] = {
    "v1": {"deprecated": "2026-06-30", "sunset": "2027-06-30", "successor": "v2"},
    "v2": {"description": "The current API."},
}
TABLE = RouteTable.build(
    "loyalty-points",
    (
        DeclaredRoute("GET", "/v1/balance/{customer}", "v1"),
        DeclaredRoute("GET", "/v2/balance/{customer_id}", "v2"),
        DeclaredRoute("POST", "/v1/adjust", "v1"),
        DeclaredRoute("GET", "/health", ""),
    ),
)


def headers(method: str, path: str, versions: dict[str, Any] = V1_DEPRECATED) -> dict[str, str]:
    manifest = parse_manifest({**VALID, "apiVersions": versions})
    match = TABLE.resolve(method, path)
    assert isinstance(match, RouteMatch)
    return dict(deprecation_headers(manifest.name, manifest.api_versions, TABLE, match))


def test_a_deprecated_version_gets_deprecation_sunset_and_its_successors_route() -> None:
    assert headers("GET", "/v1/balance/c 1") == {
        # RFC 9745: a Structured Field Date, the start (UTC) of 2026-06-30.
        "Deprecation": "@1782777600",
        # RFC 8594: an HTTP-date.
        "Sunset": "Wed, 30 Jun 2027 00:00:00 GMT",
        # The same route in v2, its own parameter name filled with this request's value.
        "Link": '</api/modules/loyalty-points/v2/balance/c%201>; rel="successor-version"',
    }


def test_without_the_same_route_in_the_successor_the_link_is_its_docs() -> None:
    assert headers("POST", "/v1/adjust")["Link"] == '</docs#/loyalty-points%20v2>; rel="successor-version"'


def test_current_and_unversioned_routes_get_nothing() -> None:
    assert headers("GET", "/v2/balance/c1") == {}
    assert headers("GET", "/health") == {}
    assert headers("GET", "/v1/balance/c1", {"v1": {"deprecated": "2026-01-01"}}) == {
        "Deprecation": "@1767225600"
    }


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        ({"1": {}}, "$.apiVersions"),
        ({"v0": {}}, "$.apiVersions"),
        ({"v1": {"deprecated": True}}, "date"),
        ({"v1": {"sunset": "2027-01-01"}}, "sunset need `deprecated`"),
        ({"v1": {"successor": "v2"}}, "successor need `deprecated`"),
        ({"v1": {"deprecated": "2027-01-01", "sunset": "2026-01-01"}}, "forbids a sunset earlier"),
        ({"v1": {"deprecated": "2027-01-01", "successor": "v1"}}, "come back"),
        (
            {
                "v1": {"deprecated": "2027-01-01", "successor": "v2"},
                "v2": {"deprecated": "2027-02-01", "successor": "v1"},
            },
            "come back",
        ),
        ({"v1": {"deprecated": "2027-01-01", "replacedBy": "v2"}}, "replacedBy"),
    ],
)
def test_bad_versions_are_refused_naming_where(versions: dict[str, Any], expected: str) -> None:
    found = problems({**VALID, "apiVersions": versions})
    assert any("apiVersions" in p for p in found), found
    assert any(expected in p for p in found), found
