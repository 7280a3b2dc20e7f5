"""The host's OpenAPI document with the routes of every module it serves now.

The core's routes come from FastAPI (built once per app). Each loaded module
adds its operations under `/api/modules/<name>/`: a module of world 0.3.0 or
newer one operation per declared route (its schemas, summary, description, the
permission it requires, its version's tag, `deprecated` for a deprecated
version); a module of an older world one catch-all path. A disabled, failed or
removed module has none. The document is rebuilt when the set of loads changes
(keyed by their load ids), so enable and disable show at the next request.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Mapping
from typing import Any

from ..manifest.model import Manifest
from ..module_routes.access import declares_routes, route_permission
from ..module_routes.deprecation import module_prefix, version_tag
from ..module_routes.pattern import RoutePattern
from ..runtime import ModuleImage
from ..runtime.declarations import Declarations, DeclaredRoute
from .auth import api_key_scheme, session_scheme, user_token_scheme

SECURITY: list[dict[str, list[str]]] = [
    {scheme.scheme_name: []} for scheme in (api_key_scheme, user_token_scheme, session_scheme)
]
CATCH_ALL_METHODS = ("get", "post", "put", "patch", "delete")
_SLUG = re.compile(r"[^A-Za-z0-9]+")
_REF = "#/$defs/"

# What the host itself may answer on any module route, besides the module's own answers.
HOST_RESPONSES: dict[str, dict[str, Any]] = {
    "401": {"description": "No credential, or a credential that is not valid."},
    "403": {"description": "The caller lacks the permission the route requires (the body names it)."},
    "429": {"description": "The tenant's rate limit on this module is reached (`Retry-After`)."},
    "503": {"description": "The host could not run the call in time, or the module is quarantined."},
    "504": {"description": "The module ran past its deadline."},
    "default": {"description": "Another answer of the module (errors are JSON with `error`)."},
}


class ModuleOpenApi:
    """The merged document of one app, cached for the current set of loads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[tuple[str, str, int], ...] | None = None
        self._document: dict[str, Any] = {}

    def document(self, core: dict[str, Any], images: Mapping[str, ModuleImage]) -> dict[str, Any]:
        # The declarations' identity too: an image copied with what its start read keeps its id.
        key = tuple(sorted((name, image.load_id, id(image.declarations)) for name, image in images.items()))
        with self._lock:
            if key != self._key:
                served = [(images[name].manifest, images[name].declarations) for name, _, _ in key]
                self._document = merged_document(core, served)
                self._key = key
            return self._document


def merged_document(core: dict[str, Any], modules: list[tuple[Manifest, Declarations]]) -> dict[str, Any]:
    """`core` with the operations of `modules` (each manifest with what its load declared)."""
    document = copy.deepcopy(core)
    paths: dict[str, Any] = document.setdefault("paths", {})
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    tags: list[dict[str, Any]] = list(document.get("tags", []))
    for manifest, declarations in sorted(modules, key=lambda one: one[0].name):
        if declares_routes(manifest.wit_version):
            tags += _declared_operations(manifest, declarations, paths, schemas)
        else:
            tags.append(_catch_all(manifest, paths))
    if tags:
        document["tags"] = tags
    return document


def _catch_all(manifest: Manifest, paths: dict[str, Any]) -> dict[str, Any]:
    name = manifest.name
    parameter = {
        "name": "path",
        "in": "path",
        "required": True,
        "description": "The path below the module's prefix (it may hold `/`).",
        "schema": {"type": "string"},
    }
    item: dict[str, Any] = {}
    for method in CATCH_ALL_METHODS:
        item[method] = {
            "tags": [name],
            "summary": f"Call the {name} module (world {manifest.wit_version}: its routes are not declared)",
            "description": f"Requires the permission `{name}:use`.",
            "operationId": f"{name}__{method}_catch_all",
            "parameters": [parameter],
            "security": SECURITY,
            "responses": HOST_RESPONSES,
            "x-trafi-module": name,
            "x-trafi-permission": f"{name}:use",
        }
    paths[f"{module_prefix(name)}/{{path}}"] = item
    return {"name": name, "description": manifest.description}


def _declared_operations(
    manifest: Manifest, declarations: Declarations, paths: dict[str, Any], schemas: dict[str, Any]
) -> list[dict[str, Any]]:
    name = manifest.name
    used: set[str] = set()
    versions: list[str] = []
    # OpenAPI forbids two templated paths differing only in parameter names: routes of one
    # shape (`GET /v1/items/{id}`, `PUT /v1/items/{sku}`) share the first one's path.
    by_shape: dict[str, RoutePattern] = {}
    for route in declarations.routes:
        parsed = RoutePattern.parse(route.path)
        pattern = by_shape.setdefault(parsed.shape, parsed)
        operation_id = _operation_id(name, route, used)
        version = manifest.api_versions.get(route.version)
        operation = _operation(name, route, pattern, operation_id, schemas)
        if version is not None and version.deprecated is not None:
            operation["deprecated"] = True
        paths.setdefault(module_prefix(name) + pattern.text, {})[route.method.lower()] = operation
        if route.version not in versions:
            versions.append(route.version)
    tags = []
    for version_name in sorted(versions):
        described = manifest.api_versions.get(version_name)
        text = manifest.description
        if described is not None and described.description:
            text = described.description
        if described is not None and described.deprecated is not None:
            text += f" Deprecated since {described.deprecated}"
            if described.sunset is not None:
                text += f", sunset on {described.sunset}"
            if described.successor is not None:
                text += f"; use {described.successor}"
            text += "."
        tags.append({"name": version_tag(name, version_name), "description": text})
    return tags


def _operation(
    module: str,
    route: DeclaredRoute,
    pattern: RoutePattern,
    operation_id: str,
    schemas: dict[str, Any],
) -> dict[str, Any]:
    permission = route_permission(module, route)
    description = route.description.strip()
    requires = f"Requires the permission `{permission}`."
    operation: dict[str, Any] = {
        "tags": [version_tag(module, route.version)],
        "summary": route.summary or f"{route.method} {route.path}",
        "description": f"{description}\n\n{requires}" if description else requires,
        "operationId": operation_id,
        "security": SECURITY,
        "x-trafi-module": module,
        "x-trafi-permission": permission,
    }
    names = [name for segment in pattern.segments for name in segment.names]
    if names:
        operation["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names
        ]
    responses: dict[str, Any] = {}
    if route.request_schema is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _hoisted(module, route.request_schema, schemas)}},
        }
        responses["400"] = {
            "description": "The body does not match the request schema (the body says where)."
        }
    ok: dict[str, Any] = {"description": route.summary or "The module's answer."}
    if route.response_schema is not None:
        ok["content"] = {"application/json": {"schema": _hoisted(module, route.response_schema, schemas)}}
    responses["200"] = ok
    operation["responses"] = {**responses, **HOST_RESPONSES}
    return operation


def _operation_id(module: str, route: DeclaredRoute, used: set[str]) -> str:
    # Module names hold no `_`, so the `__` ends the module's part: ids of two modules never meet.
    base = f"{module}__{route.method.lower()}_{_SLUG.sub('_', route.path).strip('_') or 'root'}"
    candidate, count = base, 2
    while candidate in used:
        candidate, count = f"{base}_{count}", count + 1
    used.add(candidate)
    return candidate


def _hoisted(module: str, schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """`schema` fit for the document: its `$defs` moved to `components/schemas` as
    `<module>.<name>` (a `#/$defs/...` reference would resolve against the document's root)."""
    schema = copy.deepcopy(schema)
    schema.pop("$schema", None)
    definitions: dict[str, Any] = schema.pop("$defs", None) or {}
    renamed = {def_name: f"{module}.{def_name}" for def_name in definitions}
    for def_name, definition in definitions.items():
        count = 2
        # Another route of the module may define the same name differently: keep both.
        while renamed[def_name] in schemas and schemas[renamed[def_name]] != _rewritten(definition, renamed):
            renamed[def_name] = f"{module}.{def_name}.{count}"
            count += 1
    for def_name, definition in definitions.items():
        schemas[renamed[def_name]] = _rewritten(definition, renamed)
    result: dict[str, Any] = _rewritten(schema, renamed)
    return result


def _rewritten(node: Any, renamed: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF) and ref[len(_REF) :] in renamed:
            node = {**node, "$ref": f"#/components/schemas/{renamed[ref[len(_REF) :]]}"}
        return {key: _rewritten(value, renamed) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewritten(value, renamed) for value in node]
    return node
