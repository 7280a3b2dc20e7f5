"""Where one call's time went: waiting on the host, or running the module's own code.

A call has a budget (the module's `timeoutMs`, or the sync event deadline) and
a deadline. Before the guest starts, the call may wait for a bulkhead slot, a
worker thread, an instance (and that instance's `init`); while the guest runs,
it may wait inside Trafi host functions (a kv read behind a busy SQLite, a
service call, an outgoing HTTP request). None of that is the module's doing.

`CallTiming` records the guest's start and end and the time spent in host
functions, so a deadline hit can be judged: the module's own (an incident) when
its own code used at least `OWN_TIME_SHARE` of the budget, the host's overload
otherwise (docs/security.md: what counts as misbehaviour). WASI calls (a
`time.sleep`) are the module's own time: it chose to block.

The guest runs on a worker thread; the caller may judge from another thread at
its deadline, so the fields are read while they change (floats, written whole).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# A deadline hit is the module's own when its code (not waiting, not host calls)
# used at least this share of the call's budget.
OWN_TIME_SHARE = 0.5


@dataclass
class CallTiming:
    budget: float  # seconds the module is entitled to for this call
    created: float  # `time.monotonic()` when the call came in
    guest_started: float | None = None
    guest_ended: float | None = None
    host_seconds: float = 0.0  # finished host function calls, while the guest ran
    host_since: float | None = None  # a host function call in progress since then

    @classmethod
    def start(cls, budget: float) -> CallTiming:
        """A call coming in now, to end within `budget` seconds."""
        return cls(budget=budget, created=time.monotonic())

    @classmethod
    def until(cls, deadline: float, budget: float) -> CallTiming:
        """A call that must end at `deadline` and was given `budget` seconds in all."""
        return cls(budget=budget, created=deadline - budget)

    @property
    def deadline(self) -> float:
        return self.created + self.budget

    def waited(self, now: float | None = None) -> float:
        """Seconds before the guest started (all of them, if it has not)."""
        end = self.guest_started if self.guest_started is not None else (now or time.monotonic())
        return max(0.0, end - self.created)

    def in_host(self, now: float | None = None) -> float:
        now = now or time.monotonic()
        since = self.host_since
        return self.host_seconds + (max(0.0, now - since) if since is not None else 0.0)

    def guest_seconds(self, now: float | None = None) -> float:
        """The module's own time in this call: in the guest, outside host functions."""
        started = self.guest_started
        if started is None:
            return 0.0
        now = now or time.monotonic()
        end = self.guest_ended if self.guest_ended is not None else now
        return max(0.0, end - started - self.in_host(now))

    def module_at_fault(self, now: float | None = None) -> bool:
        """Whether a deadline hit is the module's own, rather than the host's overload."""
        return self.guest_seconds(now) >= OWN_TIME_SHARE * self.budget

    def describe(self, now: float | None = None) -> str:
        now = now or time.monotonic()
        return (
            f"waited {self.waited(now) * 1000:.0f} ms, host calls {self.in_host(now) * 1000:.0f} ms, "
            f"module code {self.guest_seconds(now) * 1000:.0f} ms of a {self.budget * 1000:.0f} ms budget"
        )


_local = threading.local()


class guest_call:
    """Marks the guest running on this thread; host functions it calls add to `timing`.

    Nested (a service call runs the target's guest inside the caller's host call):
    the inner call has its own timing, and the whole of it is host time to the caller.
    A class, not a generator: it wraps every guest call.
    """

    __slots__ = ("_previous", "_timing")

    def __init__(self, timing: CallTiming) -> None:
        self._timing = timing
        self._previous: CallTiming | None = None

    def __enter__(self) -> CallTiming:
        self._previous = getattr(_local, "timing", None)
        _local.timing = self._timing
        self._timing.guest_started = time.monotonic()
        return self._timing

    def __exit__(self, *exc_info: object) -> None:
        self._timing.guest_ended = time.monotonic()
        _local.timing = self._previous


def timed_host_function(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps a host function so its time counts as the host's, not the calling guest's."""

    @functools.wraps(function)
    def call(*args: Any) -> Any:
        timing: CallTiming | None = getattr(_local, "timing", None)
        if timing is None:
            return function(*args)
        started = time.monotonic()
        timing.host_since = started
        try:
            return function(*args)
        finally:
            ended = time.monotonic()
            timing.host_seconds += ended - started
            timing.host_since = None

    return call
