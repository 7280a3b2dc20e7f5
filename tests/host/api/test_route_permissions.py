"""No /api route can be added without a credential check: each one depends on `authenticate`,
and each core route outside /api/auth names the permission it requires."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from trafi_host.api import create_app
from trafi_host.api.auth import authenticate
from trafi_host.project import Project

# Reached without a credential on purpose.
OPEN = {("POST", "/api/auth/login")}
# Any authenticated caller: they concern the caller itself.
ANY_CALLER = {("GET", "/api/auth/me"), ("POST", "/api/auth/logout")}
# Checked in the handler: the declared route's permission, or `<module>:use` (module_routes/access.py).
MODULE_ROUTES = "/api/modules/{name}/"


def _api_routes(routes: list[Any]) -> Iterator[tuple[str, set[str], Dependant]]:
    """(path, methods, dependant) of every API route, through included routers (FastAPI 0.165
    wraps them; older versions list the routes flat)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path, set(route.methods), route.dependant
        candidates = getattr(route, "effective_candidates", None)
        for context in candidates() if callable(candidates) else ():
            yield context.path, set(context.methods or ()), context.dependant


def _calls(dependant: Dependant) -> list[object]:
    found: list[object] = [dependant.call]
    for sub in dependant.dependencies:
        found += _calls(sub)
    return found


def test_every_api_route_authenticates_and_core_routes_name_a_permission(sqlite_project: Project) -> None:
    app = create_app(sqlite_project)
    checked = 0
    for path, methods, dependant in _api_routes(app.routes):
        if not path.startswith("/api/"):
            continue
        for method in methods:
            key = (method, path)
            calls = _calls(dependant)
            if key in OPEN:
                assert authenticate not in calls, key
                continue
            assert authenticate in calls, f"{method} {path} does not authenticate its caller"
            checked += 1
            if key in ANY_CALLER or path.startswith(MODULE_ROUTES):
                continue
            permitted = [c for c in calls if getattr(c, "__name__", "") == "permitted"]
            assert permitted, f"{method} {path} requires no permission: use Depends(require(...))"
    assert checked >= 20
