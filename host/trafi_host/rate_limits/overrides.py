"""The operator's rates per (module, tenant), in the host database, each change audited.

A row with tenant `*` is the module's rate for every tenant without a row of its
own. Hosts keep a snapshot (`OverrideSnapshot`), reloaded by the change watcher
when the table changes or an announcement arrives, so a request never queries.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from ..audit_log import current_actor
from ..db.engine import Database
from ..db.schema import AuditEntry, RateLimitOverride, Tenant, utcnow
from ..errors import TrafiError
from .rate import parse_rate

EVERY_TENANT = "*"
# An override that lifts the limit for a tenant (or every tenant) of a module.
UNLIMITED = "unlimited"
_MODULE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class RateOverride:
    module: str
    tenant: str  # a tenant id, or EVERY_TENANT
    rate: str
    changed_at: datetime
    changed_by: str


def _check(database: Database, module: str, tenant: str) -> None:
    if not _MODULE.match(module):
        raise TrafiError(f"{module!r} is not a module name (lowercase kebab-case)")
    if tenant == EVERY_TENANT:
        return
    with database.session() as session:
        if session.get(Tenant, tenant) is None:
            raise TrafiError(f"no tenant {tenant!r}; `trafi tenant list` shows the tenants")


def _who(tenant: str) -> str:
    return "every tenant" if tenant == EVERY_TENANT else f"tenant {tenant}"


def set_override(
    database: Database, module: str, rate: str, tenant: str = EVERY_TENANT, actor: str | None = None
) -> RateOverride:
    """Set the rate of `module` for `tenant`; the audit entry is in the same transaction."""
    try:
        if rate.strip() != UNLIMITED:
            parse_rate(rate)
    except ValueError as error:
        raise TrafiError(f"rate limit of {module} for {_who(tenant)}: {error}") from None
    _check(database, module, tenant)
    actor = actor or current_actor()
    with database.write_session() as session:
        row = session.get(RateLimitOverride, (module, tenant))
        before = row.rate if row is not None else None
        if row is None:
            row = RateLimitOverride(module=module, tenant_id=tenant)
            session.add(row)
        row.rate, row.changed_at, row.changed_by = rate.strip(), utcnow(), actor
        session.add(
            AuditEntry(
                at=utcnow(),
                actor=actor,
                module=module,
                action="rate-limit-set",
                detail=f"{_who(tenant)}: {row.rate}" + (f" (was {before})" if before else ""),
            )
        )
        return RateOverride(module, tenant, row.rate, row.changed_at, actor)


def clear_override(
    database: Database, module: str, tenant: str = EVERY_TENANT, actor: str | None = None
) -> str:
    """Remove the rate of `module` for `tenant`; returns the rate it had. No such row: an error."""
    actor = actor or current_actor()
    with database.write_session() as session:
        row = session.get(RateLimitOverride, (module, tenant))
        if row is None:
            raise TrafiError(f"no rate limit override of {module} for {_who(tenant)}")
        rate = row.rate
        session.execute(
            delete(RateLimitOverride).where(
                RateLimitOverride.module == module, RateLimitOverride.tenant_id == tenant
            )
        )
        session.add(
            AuditEntry(
                at=utcnow(),
                actor=actor,
                module=module,
                action="rate-limit-cleared",
                detail=f"{_who(tenant)}: was {rate}",
            )
        )
        return rate


def list_overrides(database: Database, module: str | None = None) -> list[RateOverride]:
    query = select(RateLimitOverride).order_by(RateLimitOverride.module, RateLimitOverride.tenant_id)
    if module is not None:
        query = query.where(RateLimitOverride.module == module)
    with database.session() as session:
        return [
            RateOverride(r.module, r.tenant_id, r.rate, r.changed_at, r.changed_by)
            for r in session.scalars(query)
        ]


class OverrideSnapshot:
    """The override table as this process last read it: `(module, tenant) -> rate`."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._rates: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def reload(self) -> bool:
        """Read the table again; True when it changed."""
        rates = {(o.module, o.tenant): o.rate for o in list_overrides(self.database)}
        with self._lock:
            changed = rates != self._rates
            self._rates = rates
        return changed

    def rate(self, module: str, tenant: str) -> str | None:
        """The operator's rate for `tenant` on `module`: its own row, else the module's `*` row."""
        rates = self._rates  # replaced whole on reload, never mutated: no lock needed to read
        return rates.get((module, tenant)) or rates.get((module, EVERY_TENANT))
