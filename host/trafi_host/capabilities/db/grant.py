"""`permissions.db`: the manifest section of the module database capability."""

from __future__ import annotations

from pydantic import Field

from ...manifest.base import Grant


class DbGrant(Grant):
    """Tables of the module's own (`mod_<module>_*`), created by its migrations."""

    max_rows_per_tenant: int = Field(
        default=100_000,
        ge=1,
        le=100_000_000,
        description="Rows one tenant may keep across the module's tables; an insert past it is "
        "`limit-exceeded`. The operator approves this number with the grant.",
    )
