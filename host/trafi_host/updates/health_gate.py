"""The health window after an update: this host's view of the new version's calls.

When a host switches a module to the version an update installed, and the
update's window (`trafi_module_updates`, status `watching`) is open, it counts
each call the new version answers: a failure is a 5xx the module caused (a
trap, its deadline, a bad response, its own 500s) or a tenant's `init` failing
on first use; the host's own overload (503) is not the module's and does not
count. The window

- fails at `updates.healthMaxFailures` failures, or once 10 calls have been
  seen with more than `updates.healthMaxErrorRate` of them failed — and a
  quarantine during the window fails it too (the rollback is the remedy, not
  a store without the module);
- passes after `updates.healthWindowCalls` calls, or `updates.healthWindowSeconds`
  after the switch, without failing.

The counts are every host's: each host adds the calls it answered to the
window's row (at each failure, every `FLUSH_EVERY_CALLS` calls, once the window
may have its calls, and at each tick of its poll loop) and judges the totals the row then holds, so the N
workers of `trafi serve --workers N`, or N hosts, fail a window on the
failures they saw between them. The verdict is a compare-and-set on the row,
so the first host to decide acts; a failed window calls `on_fail` once (the
host rolls back).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..project.config import UpdateSettings
from .records import UpdateRecord, UpdateRecords

log = logging.getLogger("trafi.updates")

MIN_CALLS_FOR_RATE = 10
# A host adds its successful calls to the shared row at least this often (a failure at once).
FLUSH_EVERY_CALLS = 10


@dataclass
class _Window:
    record: UpdateRecord
    started: float
    calls: int = 0  # every host's, as the row held after this host's last addition
    failures: int = 0
    unsent_calls: int = 0  # this host's, not added to the row yet
    unsent_failures: int = 0
    last_failure: str = ""


class HealthGate:
    def __init__(
        self,
        records: UpdateRecords,
        on_fail: Callable[[UpdateRecord, str], None],
        on_pass: Callable[[UpdateRecord], None] | None = None,
    ) -> None:
        self.records = records
        self.settings = UpdateSettings()
        self.on_fail = on_fail
        self.on_pass = on_pass or (lambda record: None)
        self._open: dict[str, UpdateRecord] = {}  # module -> its watching window, as last read
        self._windows: dict[str, _Window] = {}  # module -> what this host counts
        self._failed: dict[str, UpdateRecord] = {}  # module -> its failed update, not rolled back yet
        self._lock = threading.Lock()

    def refresh(self, settings: UpdateSettings) -> None:
        """Read the open windows, the failed updates not rolled back yet and the settings (at
        each reconcile, before a swap)."""
        self.settings = settings
        unsettled = self.records.unsettled()
        found = {module: r for module, r in unsettled.items() if r.status == "watching"}
        with self._lock:
            self._open = found
            self._failed = {module: r for module, r in unsettled.items() if r.status == "failed"}
            for module in list(self._windows):
                if module not in found or found[module].id != self._windows[module].record.id:
                    del self._windows[module]  # decided elsewhere, or superseded

    def window_for(self, module: str, digest: str) -> UpdateRecord | None:
        with self._lock:
            record = self._open.get(module)
        return record if record is not None and record.to_digest == digest else None

    def failed_update(self, module: str) -> UpdateRecord | None:
        """The module's update that failed its window and is not rolled back yet, as last read."""
        with self._lock:
            return self._failed.get(module)

    def start(self, module: str, digest: str) -> bool:
        """The new version serves on this host now: count its calls. False: no window for it."""
        record = self.window_for(module, digest)
        if record is None:
            return False
        with self._lock:
            if module not in self._windows:
                self._windows[module] = _Window(record, time.monotonic())
        log.info("update_window module=%s version=%s watching", module, record.to_version)
        return True

    def watching(self, module: str) -> bool:
        with self._lock:
            return module in self._windows

    def observe(self, module: str, digest: str, failure: str | None) -> None:
        """One call the module answered; `failure` names what went wrong, None when it did not."""
        with self._lock:
            window = self._windows.get(module)
            if window is None or window.record.to_digest != digest:
                return
            window.unsent_calls += 1
            if failure is not None:
                window.unsent_failures += 1
                window.last_failure = failure
            due = (
                failure is not None
                or window.unsent_calls >= FLUSH_EVERY_CALLS
                # Enough calls for a pass, as far as this host knows: decided now, not at the next tick.
                or window.calls + window.unsent_calls >= self.settings.health_window_calls
            )
        if due:
            self._judge(module)

    def fail(self, module: str, reason: str) -> bool:
        """Fail the module's window now (a quarantine, a start that failed); False when none is open."""
        with self._lock:
            window = self._windows.get(module)
        if window is None:
            return False
        return self._decide_failed(module, window, reason)

    def tick(self) -> None:
        """This host's counts added to the shared row, and the verdicts, time-based ones too (called
        by the host's poll loop)."""
        with self._lock:
            modules = list(self._windows)
        for module in modules:
            self._judge(module)

    def _judge(self, module: str) -> None:
        """Adds this host's counts to the window's row, then judges every host's."""
        settings = self.settings
        with self._lock:
            window = self._windows.get(module)
            if window is None:
                return
            sent = (window.unsent_calls, window.unsent_failures)
            window.unsent_calls = window.unsent_failures = 0
        try:
            totals = self.records.add_counts(window.record.id, *sent)
        except Exception:
            with self._lock:  # counted at the next try
                window.unsent_calls += sent[0]
                window.unsent_failures += sent[1]
            raise
        with self._lock:
            if totals is None:  # decided elsewhere: the host's next refresh acts on it
                if self._windows.get(module) is window:
                    del self._windows[module]
                return
            window.calls, window.failures = totals
            calls, failures = totals
            elapsed = time.monotonic() - window.started
        rate_exceeded = calls >= MIN_CALLS_FOR_RATE and failures / calls > settings.health_max_error_rate
        if failures >= settings.health_max_failures or rate_exceeded:
            self._decide_failed(
                module,
                window,
                f"{failures} of {calls} calls failed in the health window (last: {window.last_failure})",
            )
        elif calls >= settings.health_window_calls or elapsed >= settings.health_window_seconds:
            with self._lock:
                self._windows.pop(module, None)
            if self.records.decide(
                window.record.id, "passed", f"{failures} of {calls} calls failed", calls, failures
            ):
                log.info(
                    "update_passed module=%s version=%s calls=%d", module, window.record.to_version, calls
                )
            self.on_pass(window.record)

    def _decide_failed(self, module: str, window: _Window, reason: str) -> bool:
        with self._lock:
            if self._windows.get(module) is not window:
                return False  # decided already (another thread of this host)
            del self._windows[module]
        if not self.records.decide(window.record.id, "failed", reason, window.calls, window.failures):
            return False  # another host decided first: it rolls back
        log.error("update_failed module=%s version=%s reason=%s", module, window.record.to_version, reason)
        self.on_fail(window.record, reason)
        return True
