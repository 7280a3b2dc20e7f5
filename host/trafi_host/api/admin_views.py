"""`/api/admin/nav` and `/api/admin/views/<module>/<view>`: module views in the dashboard.

A module declares its views (world 0.3.0: id, title, nav label, permission) and
renders each as a UI tree (docs/ui-tree.schema.json). The nav lists only the
views whose permission the caller holds; a view is rendered only for a caller
holding it (403 otherwise: the module is never called, the tree never served),
and every tree is checked against the schema here: one that breaks it is a
structured error (502, each violation with its place) the dashboard shows as an
error panel, never half a page.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from ..auth.caller import Caller
from ..auth.permissions import CORE_PERMISSIONS, module_use
from ..permission_catalogue import module_permissions
from ..runtime import ModuleImage, Principal
from ..runtime.declarations import DeclaredView
from ..ui_tree import SCHEMA_VERSION, check_tree
from .admin_modules import ViewEntry
from .auth import authenticate, deny, module_host
from .errors import ApiError

router = APIRouter(prefix="/api/admin", tags=["dashboard"])


class Nav(BaseModel):
    dev: bool = Field(description="Under `trafi dev`: /dev/events streams the modules' reloads and errors.")
    views: list[ViewEntry] = Field(description="The running modules' views this caller may open.")


class RenderedView(BaseModel):
    module: str
    view: str
    title: str
    tree: dict[str, object] = Field(description=f"A `{SCHEMA_VERSION}` UI tree, checked against the schema.")


def view_permission(module: str, view: DeclaredView) -> str:
    """What opening `view` requires: the permission it declares, else the module's base one."""
    return f"{module}:{view.permission}" if view.permission else module_use(module)


@router.get("/nav", response_model=Nav, responses={401: {}})
async def nav(request: Request, caller: Caller = Depends(authenticate)) -> Nav:
    host = module_host(request)
    views = [
        ViewEntry(module=name, id=view.id, title=view.title, navLabel=view.nav_label)
        for name, image in sorted(dict(host.images).items())
        for view in image.declarations.views
        if caller.allows(view_permission(name, view))
    ]
    return Nav(dev=host.runtime.dev, views=views)


async def _declared(
    request: Request, caller: Caller, module: str, view_id: str
) -> tuple[ModuleImage, DeclaredView]:
    """The running module's view; 403 first when the caller may not use the module at all, so
    that a caller without it learns nothing of which modules or views exist."""
    image = module_host(request).images.get(module)
    view = next((v for v in image.declarations.views if v.id == view_id), None) if image else None
    if image is None or view is None:
        if not caller.allows(module_use(module)):
            await deny(request, caller, module_use(module), module=module)
        if image is None:
            raise ApiError(404, f"module {module!r} is not running")
        raise ApiError(404, f"module {module!r} declares no view {view_id!r}")
    permission = view_permission(module, view)
    if not caller.allows(permission):
        await deny(request, caller, permission, module=module)
    return image, view


@router.get(
    "/views/{module}/{view_id}",
    response_model=RenderedView,
    responses={401: {}, 403: {}, 404: {}, 502: {}, 503: {}, 504: {}},
)
async def render_view(
    module: str, view_id: str, request: Request, caller: Caller = Depends(authenticate)
) -> RenderedView:
    """The view rendered by the module for this caller, the page's query passed on."""
    image, view = await _declared(request, caller, module, view_id)
    host = module_host(request)
    catalogue = dict(CORE_PERMISSIONS)
    for running in list(host.images.values()):
        catalogue.update(module_permissions(running.manifest))
    principal = Principal(
        caller.id,
        caller.kind,
        caller.permissions_in(module_permissions(image.manifest)),
        caller.permissions_in(catalogue),
    )
    result = await host.runtime.call_view(
        image, view_id, caller.tenant_id, principal, tuple(request.query_params.multi_items())
    )
    if not result.ok:
        status = {"overload": 503, "deadline": 504, "no-view": 404}.get(result.failure or "", 502)
        raise ApiError(
            status,
            f"module {module} could not render its view {view_id!r}: {result.text}",
            module=module,
            view=view_id,
        )
    try:
        tree = json.loads(result.text)
    except ValueError as error:
        raise ApiError(
            502,
            f"module {module} rendered its view {view_id!r} as text that is not JSON: {error}",
            module=module,
            view=view_id,
        ) from None
    violations = check_tree(tree)
    if violations:
        raise ApiError(
            502,
            f"module {module} rendered its view {view_id!r} as a tree that breaks {SCHEMA_VERSION} "
            f"({len(violations)} problem(s); docs/ui-tree.schema.json)",
            violations=[{"path": v.path, "message": v.message} for v in violations],
            module=module,
            view=view_id,
        )
    return RenderedView(module=module, view=view_id, title=view.title, tree=tree)
