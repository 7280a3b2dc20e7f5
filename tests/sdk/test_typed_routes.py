"""Typed route handlers in plain CPython: the body parsed into the annotation (400 naming the
field otherwise), path parameters by name, results as JSON, and what the routes declare."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TypedDict

import pytest

from trafi_sdk import Module, Principal, Request, Response
from trafi_sdk.views import ViewRequest


@dataclass
class Award:
    customer: str
    points: int


class Balance(TypedDict):
    customer: str
    points: int


def make_request(method: str, path: str, body: bytes = b"") -> Request:
    return Request(method=method, path=path, tenant_id="acme", principal=Principal("k"), body=body)


def shop() -> Module:
    module = Module("shop")

    @module.post("/v1/awards", summary="Award points", permission="award")
    def award(body: Award) -> Balance:
        """Adds points.

        The balance after the award is returned."""
        return {"customer": body.customer, "points": body.points * 2}

    @module.get("/v2/balances/{customer}/{year}")
    def balance(customer: str, year: int, request: Request) -> Balance | Response:
        if year < 2000:
            return Response.error(404, "too old")
        return {"customer": f"{customer}@{request.tenant_id}", "points": year}

    @module.get("/health")
    def health(request: Request) -> Response:
        return Response.text("ok")

    return module


def test_a_typed_body_is_parsed_and_the_result_sent_as_json() -> None:
    response = shop().handle(make_request("POST", "/v1/awards", b'{"customer": "c1", "points": 4}'))
    assert (response.status, json.loads(response.body)) == (200, {"customer": "c1", "points": 8})


@pytest.mark.parametrize(
    ("body", "field", "error"),
    [
        (b'{"customer": "c1"}', "points", "points: required field missing"),
        (b'{"customer": "c1", "points": "4"}', "points", "points: expected an integer, got a string"),
        (b"[1]", None, "body: expected an object (Award), got an array"),
        (b"{not json", None, "body: not JSON"),
        (b"", None, "body: a JSON body is required"),
    ],
    ids=["missing", "wrong-type", "not-an-object", "not-json", "empty"],
)
def test_a_bad_body_is_a_400_naming_the_field(body: bytes, field: str | None, error: str) -> None:
    response = shop().handle(make_request("POST", "/v1/awards", body))
    answer = json.loads(response.body)
    assert response.status == 400
    assert answer.get("field") == field
    assert error in answer["error"]


def test_path_parameters_by_name_and_a_response_passes_through() -> None:
    module = shop()
    ok = module.handle(make_request("GET", "/v2/balances/c1/2026"))
    assert json.loads(ok.body) == {"customer": "c1@acme", "points": 2026}
    assert module.handle(make_request("GET", "/v2/balances/c1/1999")).status == 404
    not_a_number = module.handle(make_request("GET", "/v2/balances/c1/last"))
    assert (not_a_number.status, json.loads(not_a_number.body)["field"]) == (400, "year")


def test_routes_declare_version_permission_docs_and_schemas() -> None:
    routes = {(r.method, r.path): r for r in shop().route_declarations()}
    award = routes["POST", "/v1/awards"]
    assert (award.version, award.permission, award.summary) == ("v1", "award", "Award points")
    assert award.description == "The balance after the award is returned."
    assert award.request_schema is not None and award.request_schema["title"] == "Award"
    assert award.response_schema is not None and award.response_schema["required"] == ["customer", "points"]
    balance = routes["GET", "/v2/balances/{customer}/{year}"]
    assert (balance.version, balance.request_schema) == ("v2", None)
    assert balance.response_schema is not None and balance.response_schema["title"] == "Balance"
    health = routes["GET", "/health"]
    assert (health.version, health.request_schema, health.response_schema) == ("", None, None)


def test_a_parameter_the_sdk_cannot_fill_is_refused_at_decoration() -> None:
    module = Module("shop")
    with pytest.raises(TypeError, match="parameter 'limit' is neither the Request"):

        @module.get("/v1/items")
        def items(limit: int) -> Response:
            return Response(204)

    with pytest.raises(TypeError, match="only one parameter can take the body"):

        @module.post("/v1/pairs")
        def pairs(first: Award, second: Award) -> Response:
            return Response(204)


def test_views_declare_and_render() -> None:
    module = Module("shop")

    @module.view("sales-overview", title="Sales", permission="report")
    def overview(request: ViewRequest) -> dict[str, object]:
        return {"schema": "trafi-ui/1", "root": {"type": "text", "text": request.query_param("q", "")}}

    declared = module.view_declarations()
    assert [(v.id, v.title, v.nav_label, v.permission) for v in declared] == [
        ("sales-overview", "Sales", "Sales", "report")
    ]
    tree = module.render_view(ViewRequest("sales-overview", "acme", Principal("u"), (("q", "mugs"),)))
    assert tree["root"]["text"] == "mugs"
    with pytest.raises(LookupError, match="declares no view 'nope'"):
        module.render_view(ViewRequest("nope", "acme", Principal("u")))
    with pytest.raises(ValueError, match="must match"):
        module.view("Sales", title="Sales")(overview)
    with pytest.raises(ValueError, match="declared twice"):
        module.view("sales-overview", title="Again")(overview)
