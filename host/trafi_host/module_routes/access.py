"""Which permission a request to a module needs, decided from the module's declared routes.

A module of world 0.3.0 or newer declares its routes: a request is the route
that matches it (`table.py`), and needs that route's permission
(`<module>:<permission>`) or, when it declares none, the module's base
permission `<module>:use`. A request no declared route matches is answered by
the host (404, or 405 with the methods the path has) without calling the
module. A module of an older world declares nothing: every request needs
`<module>:use` and reaches its catch-all handler.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..auth.permissions import module_use
from ..runtime.declarations import DeclaredRoute
from .table import NoRoute, RouteMatch, RouteTable

# The first world whose modules export `routes`.
ROUTES_SINCE = (0, 3, 0)


@functools.cache  # asked on every module request, of a handful of world versions
def declares_routes(wit_version: str) -> bool:
    """Whether a module of this world declares its routes (and is held to them)."""
    return tuple(int(part) for part in wit_version.split(".")) >= ROUTES_SINCE


def route_permission(module: str, route: DeclaredRoute | None) -> str:
    """What a route requires: its declared permission, else the module's base one."""
    if route is None or route.permission is None:
        return module_use(module)
    return f"{module}:{route.permission}"


@dataclass(frozen=True)
class Access:
    """A request to a module: the permission it needs and the route it is, or why it is none."""

    permission: str
    match: RouteMatch | None = None  # None: an older world's catch-all, or no route
    missing: NoRoute | None = None  # set: no declared route answers it (404, or 405)


def access_for(module: str, wit_version: str, table: RouteTable, method: str, path: str) -> Access:
    if not declares_routes(wit_version):
        return Access(module_use(module))
    found = table.resolve(method, path)
    if isinstance(found, NoRoute):
        return Access(module_use(module), missing=found)
    return Access(route_permission(module, found.route), match=found)
