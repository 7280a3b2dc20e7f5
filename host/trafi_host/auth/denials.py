"""Denied requests in the audit log, without letting one caller flood it.

The first denial of a (caller, permission) pair is written at once; repeats
within `window` seconds are counted, and the count is written with the next
denial after the window. A caller hammering a route it may not call costs one
row a minute, not one a request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from ..audit_log import AuditLog

WINDOW_SECONDS = 60.0
MAX_PAIRS = 10_000


@dataclass
class DeniedRequests:
    audit: AuditLog
    window: float = WINDOW_SECONDS
    clock: Callable[[], float] = time.monotonic
    # (caller, permission) -> (when last written, denials not written since)
    _seen: OrderedDict[tuple[str, str], tuple[float, int]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, caller: str, permission: str, module: str, request_line: str) -> None:
        """Called from a worker thread: may write to the database."""
        now = self.clock()
        key = (caller, permission)
        with self._lock:
            last = self._seen.get(key)
            if last is not None and now - last[0] < self.window:
                self._seen[key] = (last[0], last[1] + 1)
                return
            repeats = last[1] if last is not None else 0
            self._seen[key] = (now, 0)
            self._seen.move_to_end(key)
            while len(self._seen) > MAX_PAIRS:
                self._seen.popitem(last=False)
        detail = f"{request_line} needs {permission}"
        if repeats:
            detail += f" ({repeats} more denials of this permission to this caller not written one by one)"
        self.audit.record(module, "permission-denied", detail=detail, actor=caller)
