"""The `routes` and `views` exports' values read into `Declarations`, or refused.

What a module declares decides what the host checks and shows (a route's
permission, the OpenAPI document, the dashboard's navigation), so a malformed
declaration fails the load: every problem is named with the module, the route
or view, and what is wrong, and nothing of it is served.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ModuleStartError
from ..manifest.model import Manifest
from .declarations import Declarations, DeclaredRoute, DeclaredView

# The methods the module proxy serves (api/module_proxy.py METHODS).
ROUTE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
VIEW_ID = re.compile(r"^[a-z][a-z0-9-]*$")
ROUTE_VERSION = re.compile(r"^v[0-9]+$")
# A path segment: literal characters, or one `{parameter}`.
_LITERAL_SEGMENT = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=:@-]+$")
_PARAMETER_SEGMENT = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\}$")


class DeclarationError(ModuleStartError):
    """A module of world 0.3.0+ declared a route or view the host cannot use."""


def _path_problem(path: str) -> str | None:
    if not path.startswith("/"):
        return "the path does not start with '/'"
    if path == "/":
        return None
    segments = path[1:].removesuffix("/").split("/")
    for segment in segments:
        if not (_LITERAL_SEGMENT.match(segment) or _PARAMETER_SEGMENT.match(segment)):
            return f"path segment {segment!r} is neither literal text nor one {{parameter}}"
    return None


def _version_problem(path: str, version: str) -> str | None:
    if not version:
        return None
    first = path.lstrip("/").split("/", 1)[0]
    if not ROUTE_VERSION.match(version):
        return f"version {version!r} is not v<number> (v1, v2...)"
    if first != version:
        return f"version {version!r} is not the path's first segment ({first!r})"
    return None


def _schema(text: str | None, which: str, problems: list[str]) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        schema = json.loads(text)
    except ValueError as error:
        problems.append(f"{which} is not JSON ({error})")
        return None
    if not isinstance(schema, dict):
        problems.append(f"{which} is not a JSON object (a JSON Schema is one)")
        return None
    return schema


def _permission_problem(module: str, permission: str | None, manifest: Manifest) -> str | None:
    if permission is None:
        return None
    if ":" in permission:
        return f"permission {permission!r} must be named without the module prefix ({module}:...)"
    if f"{module}:{permission}" not in manifest.api_permissions:
        declared = ", ".join(sorted(manifest.api_permissions)) or "none"
        return (
            f"permission {permission!r} is not declared in the manifest's apiPermissions as "
            f"'{module}:{permission}' (declared: {declared})"
        )
    return None


def _route(entry: Mapping[str, Any], manifest: Manifest, problems: list[str]) -> DeclaredRoute | None:
    module = manifest.name
    method, path, version = str(entry["method"]), str(entry["path"]), str(entry["version"])
    own: list[str] = []
    if method not in ROUTE_METHODS:
        own.append(f"method {method!r} is not one of {', '.join(ROUTE_METHODS)} (upper case)")
    own += [p for p in (_path_problem(path), _version_problem(path, version)) if p]
    permission = entry["permission"]
    problem = _permission_problem(module, permission, manifest)
    if problem:
        own.append(problem)
    request_schema = _schema(entry["request_schema"], "the request schema", own)
    response_schema = _schema(entry["response_schema"], "the response schema", own)
    if own:
        problems += [f"route {method} {path}: {p}" for p in own]
        return None
    return DeclaredRoute(
        method=method,
        path=path,
        version=version,
        summary=str(entry["summary"]),
        description=str(entry["description"]),
        permission=permission,
        request_schema=request_schema,
        response_schema=response_schema,
    )


def _view(entry: Mapping[str, Any], manifest: Manifest, problems: list[str]) -> DeclaredView | None:
    view_id = str(entry["id"])
    own: list[str] = []
    if not VIEW_ID.match(view_id):
        own.append("the id is not [a-z][a-z0-9-]* (lower case letters, digits and '-')")
    permission = entry["permission"]
    problem = _permission_problem(manifest.name, permission, manifest)
    if problem:
        own.append(problem)
    if own:
        problems += [f"view {view_id!r}: {p}" for p in own]
        return None
    return DeclaredView(
        id=view_id, title=str(entry["title"]), nav_label=str(entry["nav_label"]), permission=permission
    )


def read_declarations(
    manifest: Manifest, routes: Sequence[Mapping[str, Any]], views: Sequence[Mapping[str, Any]]
) -> Declarations:
    """The module's declarations; DeclarationError listing every problem when one is malformed."""
    problems: list[str] = []
    read_routes: list[DeclaredRoute] = []
    seen_routes: set[tuple[str, str]] = set()
    for entry in routes:
        route = _route(entry, manifest, problems)
        if route is None:
            continue
        if (route.method, route.path) in seen_routes:
            problems.append(f"route {route.method} {route.path}: declared twice")
            continue
        seen_routes.add((route.method, route.path))
        read_routes.append(route)
    read_views: list[DeclaredView] = []
    seen_views: set[str] = set()
    for entry in views:
        view = _view(entry, manifest, problems)
        if view is None:
            continue
        if view.id in seen_views:
            problems.append(f"view {view.id!r}: declared twice")
            continue
        seen_views.add(view.id)
        read_views.append(view)
    if problems:
        raise DeclarationError(f"module {manifest.name}: malformed declarations: " + "; ".join(problems))
    return Declarations(tuple(read_routes), tuple(read_views))
