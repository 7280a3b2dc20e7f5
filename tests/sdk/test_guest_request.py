"""The guest adapter's request is the same `Request` an author would build (plain CPython)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import pytest

from trafi_sdk import guest
from trafi_sdk.http import Principal, Request


@dataclass
class WitPrincipal:  # as the generated bindings hand it over (world 0.1)
    id: str
    kind: str
    scopes: list[str]


@dataclass
class WitRequest:
    method: str
    path: str
    tenant_id: str
    principal: WitPrincipal
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes


def test_the_adapted_request_equals_one_built_through_its_constructor() -> None:
    wit = WitRequest(
        "POST",
        "/v1/items",
        "acme",
        WitPrincipal("k1", "api-key", ["shop:use"]),
        [("q", "1")],
        [("a", "b")],
        b"{}",
    )
    adapted = guest._to_request(wit)
    built = Request(
        method="POST",
        path="/v1/items",
        tenant_id="acme",
        principal=Principal("k1", "api-key", ("shop:use",)),
        query=(("q", "1"),),
        headers=(("a", "b"),),
        body=b"{}",
    )
    assert adapted == built
    assert list(vars(adapted)) == [field.name for field in fields(Request)]  # no field forgotten
    assert adapted.path_params == {} and adapted.path_params is not built.path_params
    with pytest.raises(AttributeError):
        adapted.path = "/elsewhere"  # type: ignore[misc]  # still frozen


def test_the_adapted_principal_equals_one_built_through_its_constructor() -> None:
    adapted = guest._to_principal(WitPrincipal("k1", "api-key", ["shop:use"]))
    assert adapted == Principal("k1", "api-key", ("shop:use",), ())
    assert list(vars(adapted)) == [field.name for field in fields(Principal)]
    with pytest.raises(AttributeError):
        adapted.id = "someone else"  # type: ignore[misc]  # still frozen
