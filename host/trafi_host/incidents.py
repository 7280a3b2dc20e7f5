"""Runtime incidents and quarantine once a module has too many of them in a window.

An incident is the module's own misbehaviour: a trap, a memory-cap or fuel hit,
a refused host call, its own code running to the deadline, a response the host
will not forward. The host's overload (a call that waited for a worker, a slot or
an instance until its deadline) never reaches here (runtime/call_timing.py).

The decision is per module (a quarantined module stops for every tenant), and
it names the tenants whose calls misbehaved: each incident's audit entry does,
and so does the quarantine's reason (the audit log, `/health`, `trafi module list`).

The count is the database's, not this process's: each incident is an audit
entry, and the threshold is checked against the module's incident entries in
the window (since its state last changed: a lifted quarantine counts from
zero). So the workers of `trafi serve --workers N`, or hosts on several
machines, quarantine a module that misbehaves across them as one host would;
the quarantine itself is taken once (`ModuleStates.quarantine_once`) and
reaches the other processes through the change watch.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select

from .audit_log import AuditLog
from .db.schema import AuditEntry, ModuleStateRow, utcnow

log = logging.getLogger("trafi.incidents")
# The rule of the one entry summing the incidents that came while the module was quarantined.
AFTER_QUARANTINE = "after-quarantine"


class IncidentMonitor:
    def __init__(
        self,
        audit: AuditLog,
        threshold: int,
        window_seconds: float,
        quarantine: Callable[[str, str], None],
    ) -> None:
        self.audit = audit
        self.threshold = threshold
        self.window_seconds = window_seconds
        self.quarantine = quarantine
        self._quarantined: set[str] = set()
        # Incidents of a module already quarantined (calls still in flight when it tripped):
        # counted, and written as one entry when the quarantine is lifted, not one row each.
        self._after_quarantine: Counter[str] = Counter()
        self._lock = threading.Lock()

    def record(self, module: str, tenant: str, kind: str, detail: str) -> None:
        """Called from worker threads; writes the audit log and may quarantine the module."""
        with self._lock:
            if module in self._quarantined:
                self._after_quarantine[module] += 1
                return
        self.audit.record(module, "incident", rule=kind, detail=f"tenant {tenant}: {detail}", actor="host")
        by_tenant = self._recent_by_tenant(module)
        with self._lock:
            tripped = sum(by_tenant.values()) >= self.threshold and module not in self._quarantined
            if tripped:
                self._quarantined.add(module)
        if tripped:
            reason = (
                f"{sum(by_tenant.values())} incidents in {self.window_seconds:g} s "
                f"from {_tenants(by_tenant)} (last: {kind}, tenant {tenant}, {detail})"
            )
            log.error("quarantining module %s: %s", module, reason)
            self.quarantine(module, reason)

    def _recent_by_tenant(self, module: str) -> Counter[str]:
        """The module's incidents in the window, from every process, by tenant."""
        since = utcnow() - timedelta(seconds=self.window_seconds)
        with self.audit.database.session() as session:
            changed = session.scalar(select(ModuleStateRow.changed_at).where(ModuleStateRow.name == module))
            if changed is not None:
                since = max(since, _aware(changed))
            details = session.scalars(
                select(AuditEntry.detail).where(
                    AuditEntry.module == module,
                    AuditEntry.action == "incident",
                    or_(AuditEntry.rule.is_(None), AuditEntry.rule != AFTER_QUARANTINE),
                    AuditEntry.at >= since,
                )
            ).all()
        return Counter(_tenant_of(detail) for detail in details)

    def quarantine_now(self, module: str, tenant: str, reason: str) -> None:
        """Quarantine without waiting for the threshold (a module blocking more worker threads
        than the host may abandon: runtime/worker_threads.py). Its incident is recorded already."""
        with self._lock:
            if module in self._quarantined:
                return
            self._quarantined.add(module)
        log.error("quarantining module %s (tenant %s): %s", module, tenant, reason)
        self.quarantine(module, f"tenant {tenant}: {reason}")

    def forget(self, module: str) -> None:
        """After an operator lifts a quarantine, the count starts again."""
        with self._lock:
            self._quarantined.discard(module)
            unrecorded = self._after_quarantine.pop(module, 0)
        if unrecorded:
            self.audit.record(
                module,
                "incident",
                rule=AFTER_QUARANTINE,
                detail=f"{unrecorded} more incident(s) while quarantined, not recorded one by one",
                actor="host",
            )


def _tenant_of(detail: str | None) -> str:
    """The tenant an incident entry names (`record` writes `tenant <id>: <detail>`)."""
    head, _, _rest = (detail or "").partition(": ")
    return head.removeprefix("tenant ") or "?"


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; the host writes them in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _tenants(counts: Counter[str]) -> str:
    """`tenant acme` or `tenants acme (3), globex (1)`: the most incidents first."""
    if len(counts) == 1:
        return f"tenant {next(iter(counts))}"
    return "tenants " + ", ".join(f"{tenant} ({n})" for tenant, n in counts.most_common())
