"""Permission names, the core's catalogue, and what a set of grants allows.

A permission is `<namespace>:<action>`. The core's namespaces are below; every
other namespace is a module's (its name), holding `<module>:use` (what each of
its routes requires) and the permissions its manifest declares in
`apiPermissions`. A grant (a role's permission or an API key's scope) is a
permission or a wildcard: `<namespace>:*` (all of one namespace) or `*` (all,
in the grantee's tenant).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import TrafiError

PERMISSION_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*:[a-z][a-z0-9]*(-[a-z0-9]+)*$"
_PERMISSION = re.compile(PERMISSION_PATTERN)
_NAMESPACE_WILDCARD = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*:\*$")
ALL = "*"
# Every route of a module requires this action of its namespace.
MODULE_USE = "use"

CORE_PERMISSIONS: dict[str, str] = {
    "modules:read": "List the installed modules and their state (GET /api/modules).",
    "modules:manage": "Enable and disable modules from the dashboard (POST /api/admin/modules/<name>/"
    "enable|disable); installs and removals stay with the CLI.",
    "commerce:read": "Read products, customers, orders and payments (GET /api/commerce/...).",
    "commerce:write": "Create and change products, customers, orders and payments "
    "(POST and PATCH /api/commerce/...).",
    "tenants:manage": "Create tenants and their API keys (reserved: the CLI does this today).",
    "users:manage": "Create and disable users, roles and their grants (reserved: the CLI does this today).",
    "audit:read": "Read the audit log (reserved: `trafi audit list` today).",
}
CORE_NAMESPACES = frozenset(name.split(":")[0] for name in CORE_PERMISSIONS)


class GrantError(TrafiError):
    """A permission or grant that is not well formed, or not in the catalogue."""


def module_use(module: str) -> str:
    return f"{module}:{MODULE_USE}"


def check_grant(grant: str, known: Iterable[str] | None = None) -> str:
    """`grant` if it is a permission, `<namespace>:*` or `*` (and, given the catalogue
    `known`, names something in it); else an error saying what is expected."""
    if grant == ALL:
        return grant
    if _NAMESPACE_WILDCARD.match(grant):
        namespace = grant.split(":")[0]
        if known is not None and not any(name.split(":")[0] == namespace for name in known):
            raise GrantError(f"grant {grant!r}: no permission of namespace {namespace!r} is known")
        return grant
    if not _PERMISSION.match(grant):
        raise GrantError(
            f"grant {grant!r} must be `<namespace>:<action>` (lowercase, e.g. `commerce:read`), "
            "`<namespace>:*` or `*`"
        )
    if known is not None and grant not in set(known):
        namespace = grant.split(":")[0]
        same = sorted(name for name in known if name.startswith(namespace + ":"))
        hint = f" ({namespace!r} has: {', '.join(same)})" if same else ""
        raise GrantError(f"unknown permission {grant!r}{hint}; see `trafi role permissions`")
    return grant


def allows(grants: Iterable[str], permission: str) -> bool:
    """Whether `grants` (permissions and wildcards) include `permission`."""
    namespace = permission.split(":")[0]
    for grant in grants:
        if grant == permission or grant == ALL or grant == f"{namespace}:*":
            return True
    return False


def resolved(grants: Iterable[str], catalogue: Iterable[str]) -> tuple[str, ...]:
    """The permissions of `catalogue` that `grants` include, sorted (wildcards expanded)."""
    held = tuple(grants)
    return tuple(sorted(name for name in set(catalogue) if allows(held, name)))


__all__ = [
    "ALL",
    "CORE_NAMESPACES",
    "CORE_PERMISSIONS",
    "MODULE_USE",
    "PERMISSION_PATTERN",
    "GrantError",
    "allows",
    "check_grant",
    "module_use",
    "resolved",
]
