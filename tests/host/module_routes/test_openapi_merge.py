"""The OpenAPI document's module part, from manifests and declarations (no component needed):
operations per declared route with their schemas, permission, tags per version, deprecation;
one catch-all per older-world module; `$defs` hoisted so references resolve in the document."""

from __future__ import annotations

from typing import Any

from tests.host.manifest.test_manifest import VALID
from trafi_host.api.module_openapi import merged_document
from trafi_host.manifest.load import parse_manifest
from trafi_host.manifest.model import Manifest
from trafi_host.runtime.declarations import Declarations, DeclaredRoute

CORE: dict[str, Any] = {"openapi": "3.1.0", "info": {"title": "t", "version": "0"}, "paths": {"/health": {}}}
ITEM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"id": {"type": "string"}, "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}}},
    "required": ["id"],
    "$defs": {"Tag": {"type": "object", "properties": {"name": {"type": "string"}}}},
}


def manifest(name: str, world: str, **extra: Any) -> Manifest:
    parsed = parse_manifest({**VALID, "name": name, **extra})
    # model_copy: the world is set as a load of that world would have it.
    return parsed.model_copy(update={"world": f"trafi:host/module@{world}"})


SHOP = manifest(
    "shop",
    "0.3.0",
    apiPermissions={"shop:admin": "Delete items"},
    apiVersions={"v1": {"deprecated": "2026-06-30", "successor": "v2"}, "v2": {"description": "Current."}},
)
SHOP_ROUTES = Declarations(
    routes=(
        DeclaredRoute("GET", "/v1/items/{id}", "v1", summary="One item", response_schema=ITEM),
        DeclaredRoute("GET", "/v2/items/{id}", "v2", summary="One item", response_schema=ITEM),
        DeclaredRoute("DELETE", "/v2/items/{id}", "v2", description="Gone for good.", permission="admin"),
        DeclaredRoute("POST", "/v2/items", "v2", request_schema=ITEM, response_schema=ITEM),
        DeclaredRoute("PUT", "/v2/items/{sku}", "v2", summary="Replace an item"),
    )
)
OLD = manifest("hello", "0.1.0")


def document() -> dict[str, Any]:
    return merged_document(CORE, [(SHOP, SHOP_ROUTES), (OLD, Declarations())])


def test_each_declared_route_is_an_operation_with_its_permission_and_tag() -> None:
    paths = document()["paths"]
    assert "/health" in paths  # the core's stay
    one = paths["/api/modules/shop/v2/items/{id}"]
    assert one["get"]["tags"] == ["shop v2"] and one["get"]["summary"] == "One item"
    assert one["get"]["x-trafi-permission"] == "shop:use"
    assert one["delete"]["x-trafi-permission"] == "shop:admin"
    assert one["delete"]["description"] == "Gone for good.\n\nRequires the permission `shop:admin`."
    assert one["get"]["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    assert {entry for s in one["get"]["security"] for entry in s} == {"apiKey", "userToken", "session"}
    assert len({op["operationId"] for item in paths.values() for op in item.values()}) == sum(
        len(item) for item in paths.values()
    )


def test_routes_of_one_shape_share_one_path_with_the_first_ones_parameter_names() -> None:
    paths = document()["paths"]
    assert "/api/modules/shop/v2/items/{sku}" not in paths  # OpenAPI: no two paths of one template
    put = paths["/api/modules/shop/v2/items/{id}"]["put"]
    assert put["summary"] == "Replace an item" and put["parameters"][0]["name"] == "id"


def test_a_deprecated_version_is_marked_and_described_on_its_tag() -> None:
    doc = document()
    assert doc["paths"]["/api/modules/shop/v1/items/{id}"]["get"]["deprecated"] is True
    assert "deprecated" not in doc["paths"]["/api/modules/shop/v2/items/{id}"]["get"]
    tags = {tag["name"]: tag["description"] for tag in doc["tags"]}
    assert tags["shop v1"].endswith("Deprecated since 2026-06-30; use v2.")
    assert tags["shop v2"] == "Current."


def test_schemas_are_in_the_document_with_their_defs_hoisted() -> None:
    doc = document()
    post = doc["paths"]["/api/modules/shop/v2/items"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert "$defs" not in body and "$schema" not in body
    assert body["properties"]["tags"]["items"] == {"$ref": "#/components/schemas/shop.Tag"}
    assert doc["components"]["schemas"]["shop.Tag"] == ITEM["$defs"]["Tag"]
    assert post["responses"]["200"]["content"]["application/json"]["schema"] == body
    assert "400" in post["responses"]  # a typed body is checked by the SDK
    assert "components" not in CORE  # the core's document is copied, never changed


def test_an_older_world_module_keeps_one_catch_all() -> None:
    item = document()["paths"]["/api/modules/hello/{path}"]
    assert set(item) == {"get", "post", "put", "patch", "delete"}
    assert item["get"]["x-trafi-permission"] == "hello:use" and item["get"]["tags"] == ["hello"]
