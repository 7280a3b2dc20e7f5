"""What a module built for world 0.3.0 or newer declares about itself: its routes and views.

Read once per load from the `routes` and `views` exports (a module of an older
world declares nothing: its routes are the catch-all proxy). The host decides
with these, never with the module at request time: which permission a route
needs, what the OpenAPI document shows, which navigation entries a user sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DeclaredRoute:
    """One entry of the `routes` export (`wit/since_v0.3.0/host.wit`)."""

    method: str  # upper case
    path: str  # pattern below /api/modules/<name>, `{param}` segments, `/<version>/...` when versioned
    version: str  # "v1", "v2"... or "" for an unversioned route
    summary: str = ""
    description: str = ""
    # A permission the manifest declares in `apiPermissions`, without the module prefix;
    # None: the module's base permission (`<module>:use`).
    permission: str | None = None
    request_schema: dict[str, Any] | None = field(default=None, compare=False)
    response_schema: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DeclaredView:
    """One entry of the `views` export: a dashboard page the module renders as a UI tree."""

    id: str
    title: str
    nav_label: str
    # As for routes: a declared permission without the prefix; None: the base permission.
    permission: str | None = None


@dataclass(frozen=True)
class Declarations:
    routes: tuple[DeclaredRoute, ...] = ()
    views: tuple[DeclaredView, ...] = ()


NOTHING_DECLARED = Declarations()


@dataclass(frozen=True)
class ModuleOffer:
    """What a module offers, read from it when it starts: its services (every world) and its
    declared routes and views (world 0.3.0+)."""

    service_names: tuple[str, ...] = ()
    declarations: Declarations = NOTHING_DECLARED
