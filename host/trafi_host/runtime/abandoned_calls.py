"""What an abandoned call costs, and whom: its thread, an incident, at the cap a quarantine.

`CallWatchdog` hands over a call still running past its deadline plus the grace
(runtime/guarded_call.py): its guest is blocked in a WASI or host call. Its slot
and instances are given back at once; then its thread is replaced (within
host.maxAbandonedThreads); the module whose guest blocked (the innermost one, for
a service call) gets a `deadline` incident if its own time ran out, unless the
caller's answer (an HTTP 504) counted that already; and when the cap refuses a
replacement, that module is quarantined. Only then is the waiting caller answered,
so whoever reads the answer finds the incident recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .guarded_call import GuardedCall
from .http_types import CallStats
from .worker_threads import WorkerThreads

log = logging.getLogger("trafi.runtime")

# (module, tenant, kind, detail) and (module, tenant, reason)
IncidentReport = Callable[[str, str, str, str], None]
QuarantineReport = Callable[[str, str, str], None]


class AbandonedCalls:
    def __init__(
        self, threads: WorkerThreads, stats: CallStats, incident: IncidentReport, quarantine: QuarantineReport
    ) -> None:
        self.threads = threads
        self.stats = stats
        self.incident = incident
        self.quarantine = quarantine

    def abandon(self, call: GuardedCall) -> None:
        if call.abandon() is None:
            return  # it ended meanwhile
        try:
            self._account(call)
        finally:
            call.answer_abandoned()

    def _account(self, call: GuardedCall) -> None:
        self.stats.abandoned += 1
        replaced = call.thread is None or self.threads.abandon(call.thread)
        inner = call.innermost()
        call.had_instance = inner is not None
        module, tenant = (inner.module, inner.tenant) if inner is not None else (call.module, call.tenant)
        timing = inner.timing if inner is not None else None
        # A WASI call is the module's own time; a Trafi host function's is the host's.
        own_fault = call.module_at_fault = timing is not None and timing.module_at_fault()
        log.warning(
            "call_abandoned module=%s tenant=%s call=%r: still running past its deadline (%s); thread %s",
            module,
            tenant,
            call.what,
            timing.describe() if timing is not None else "before the guest started",
            "replaced" if replaced else f"not replaced: {self.threads.max_abandoned} already abandoned",
        )
        if own_fault and not (call.counted and module == call.module):
            self.incident(
                module,
                tenant,
                "deadline",
                f"blocked in a host/WASI call past its deadline; its call ({call.what}) was abandoned",
            )
        if not replaced and own_fault:
            self.quarantine(
                module,
                tenant,
                f"blocked one worker thread more than host.maxAbandonedThreads "
                f"({self.threads.max_abandoned}) allows: tenant {tenant}'s call {call.what} "
                f"was still blocked in a host/WASI call past its deadline",
            )
