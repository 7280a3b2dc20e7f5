"""`permissions.core`: the core service scopes a module asks for."""

from __future__ import annotations

from pydantic import Field

from ...manifest.base import ManifestModel, Reason

SCOPE_PATTERN = r"^[a-z][a-z-]*:(read|write)$"

# Each scope this host's core services check, and the functions it opens.
SCOPES = {
    "orders:read": "get_order, list_orders",
    "orders:write": "add_order_note",
    "products:read": "get_product",
    "customers:read": "get_customer",
}


class ScopeGrant(ManifestModel):
    scope: str = Field(pattern=SCOPE_PATTERN, description="A core service scope such as `orders:read`.")
    reason: Reason
