"""Waiting in tests for what happens on its own time: a job worker, a server process, another host.

Every test that waits for a condition polls through here instead of sleeping
for a fixed time, because a fixed sleep is too short on a loaded machine (CI
shares two cores) and needlessly long on an idle one. A timeout only turns a
hang into a failure that names what never happened, so it is generous and is
never the thing a test measures; a test that does measure how soon something
happened asserts on what `seconds_until` returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT = 60.0
DEFAULT_INTERVAL = 0.05
MEASURING_INTERVAL = 0.01  # finer: what `seconds_until` returns stays close to the moment it became true


def _poll(
    condition: Callable[[], T], timeout: float, interval: float, message: str | None
) -> tuple[T, float]:
    started = time.monotonic()
    while True:
        value = condition()
        elapsed = time.monotonic() - started
        if value:
            return value, elapsed
        if elapsed >= timeout:
            what = message or getattr(condition, "__qualname__", repr(condition))
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what} (last value: {value!r})")
        time.sleep(min(interval, timeout - elapsed))


def wait_for(
    condition: Callable[[], T],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
    message: str | None = None,
) -> T:
    """Call `condition` until it returns something truthy, and return that.

    Raises AssertionError naming `message` (else the condition's name) after
    `timeout` seconds; an exception from `condition` is raised at once.
    """
    value, _elapsed = _poll(condition, timeout, interval, message)
    return value


def seconds_until(
    condition: Callable[[], object],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = MEASURING_INTERVAL,
    message: str | None = None,
) -> float:
    """Like `wait_for`, but returns how many seconds passed until `condition` held (for tests that
    measure how soon something happens); polled more often, so the measure is close."""
    _value, elapsed = _poll(condition, timeout, interval, message)
    return elapsed
