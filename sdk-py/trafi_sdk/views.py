"""The module's pages in the admin dashboard: declared views, each rendered as a UI tree.

A view is a function returning the page as a dict of the dashboard's own
components (no code runs in the browser); the SDK sends it as JSON. The host
renders a view only for a user holding its permission (world 0.3.0+):

    @module.view("overview", title="Points overview", nav_label="Points")
    def overview(request: ViewRequest) -> dict:
        return {
            "schema": "trafi-ui/1",
            "root": {"type": "card", "title": "Points", "children": [{"type": "text", "text": "Hi"}]},
        }
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .http import Principal

VIEW_ID = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class ViewRequest:
    """What the dashboard asks a view for: `view_id`, `tenant_id`, `principal` (with the
    caller's `permissions`) and the page's `query` (pairs).

    Example:

        def overview(request: ViewRequest) -> dict:
            customer = request.query_param("customer", "")
    """

    view_id: str
    tenant_id: str
    principal: Principal
    query: tuple[tuple[str, str], ...] = ()

    def query_param(self, name: str, default: str | None = None) -> str | None:
        """The first value of the page's query parameter `name`, else `default`.

        Example:

            page = int(request.query_param("page") or 1)
        """
        return next((value for key, value in self.query if key == name), default)


Renderer = Callable[[ViewRequest], Any]


@dataclass(frozen=True)
class ViewDeclaration:
    """One view as the `views` export declares it: `id`, `title`, `nav_label`, `permission`
    (declared in `apiPermissions`, without the module prefix; None: the base permission)."""

    id: str
    title: str
    nav_label: str
    permission: str | None = None


@dataclass(frozen=True)
class View:
    declaration: ViewDeclaration
    render: Renderer


def declare_view(
    view_id: str, title: str, nav_label: str | None, permission: str | None, render: Renderer
) -> View:
    if not VIEW_ID.match(view_id):
        raise ValueError(f"view id {view_id!r} must match [a-z][a-z0-9-]* (e.g. 'overview')")
    return View(ViewDeclaration(view_id, title, nav_label or title, permission), render)


__all__ = ["Renderer", "View", "ViewDeclaration", "ViewRequest", "declare_view"]
