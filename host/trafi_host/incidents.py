"""Runtime incidents and quarantine once a module has too many of them in a window.

An incident is the module's own misbehaviour: a trap, a memory-cap or fuel hit,
a refused host call, its own code running to the deadline, a response the host
will not forward. The host's overload (a call that waited for a worker, a slot or
an instance until its deadline) never reaches here (runtime/call_timing.py).

The decision is per module (a quarantined module stops for every tenant), and
it names the tenants whose calls misbehaved: each incident's audit entry does,
and so does the quarantine's reason (the audit log, `/health`, `trafi module list`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable

from .audit_log import AuditLog

log = logging.getLogger("trafi.incidents")


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
        self._recent: dict[str, deque[tuple[float, str]]] = {}  # module -> (when, tenant)
        self._quarantined: set[str] = set()
        # Incidents of a module already quarantined (calls still in flight when it tripped):
        # counted, and written as one entry when the quarantine is lifted, not one row each.
        self._after_quarantine: Counter[str] = Counter()
        self._lock = threading.Lock()

    def record(self, module: str, tenant: str, kind: str, detail: str) -> None:
        """Called from worker threads; writes the audit log and may quarantine the module."""
        now = time.monotonic()
        with self._lock:
            if module in self._quarantined:
                self._after_quarantine[module] += 1
                return
        self.audit.record(module, "incident", rule=kind, detail=f"tenant {tenant}: {detail}", actor="host")
        with self._lock:
            recent = self._recent.setdefault(module, deque())
            recent.append((now, tenant))
            while recent and recent[0][0] < now - self.window_seconds:
                recent.popleft()
            tripped = len(recent) >= self.threshold and module not in self._quarantined
            if tripped:
                self._quarantined.add(module)
                by_tenant = Counter(t for _, t in recent)
        if tripped:
            reason = (
                f"{sum(by_tenant.values())} incidents in {self.window_seconds:g} s "
                f"from {_tenants(by_tenant)} (last: {kind}, tenant {tenant}, {detail})"
            )
            log.error("quarantining module %s: %s", module, reason)
            self.quarantine(module, reason)

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
            self._recent.pop(module, None)
            self._quarantined.discard(module)
            unrecorded = self._after_quarantine.pop(module, 0)
        if unrecorded:
            self.audit.record(
                module,
                "incident",
                rule="after-quarantine",
                detail=f"{unrecorded} more incident(s) while quarantined, not recorded one by one",
                actor="host",
            )


def _tenants(counts: Counter[str]) -> str:
    """`tenant acme` or `tenants acme (3), globex (1)`: the most incidents first."""
    if len(counts) == 1:
        return f"tenant {next(iter(counts))}"
    return "tenants " + ", ".join(f"{tenant} ({n})" for tenant, n in counts.most_common())
