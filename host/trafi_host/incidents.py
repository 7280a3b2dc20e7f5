"""Runtime incidents (deadline hits, traps, memory-cap hits, refused host calls), and
quarantine once a module has too many of them in a window."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
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
        self._recent: dict[str, deque[float]] = {}
        self._quarantined: set[str] = set()
        self._lock = threading.Lock()

    def record(self, module: str, tenant: str, kind: str, detail: str) -> None:
        """Called from worker threads; writes the audit log and may quarantine the module."""
        now = time.monotonic()
        self.audit.record(module, "incident", rule=kind, detail=f"tenant {tenant}: {detail}", actor="host")
        with self._lock:
            recent = self._recent.setdefault(module, deque())
            recent.append(now)
            while recent and recent[0] < now - self.window_seconds:
                recent.popleft()
            tripped = len(recent) >= self.threshold and module not in self._quarantined
            if tripped:
                self._quarantined.add(module)
                count = len(recent)
        if tripped:
            reason = f"{count} incidents in {self.window_seconds:g} s (last: {kind}, {detail})"
            log.error("quarantining module %s: %s", module, reason)
            self.quarantine(module, reason)

    def forget(self, module: str) -> None:
        """After an operator lifts a quarantine, the count starts again."""
        with self._lock:
            self._recent.pop(module, None)
            self._quarantined.discard(module)
