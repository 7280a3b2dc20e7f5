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

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from ..auth.caller import Caller
from ..auth.permissions import module_use
from ..runtime.declarations import DeclaredView
from ..ui_tree import SCHEMA_VERSION
from .admin_modules import ViewEntry
from .auth import authenticate, module_host

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
