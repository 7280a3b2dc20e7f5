"""Log volume per (module, tenant) over time: many calls of a few lines each cannot flood the host."""

from __future__ import annotations

import logging

import pytest

from tests.host.capabilities.harness import call_host_function
from trafi_host.capabilities.log.budget import LogBudget
from trafi_host.capabilities.log.host import LogCapability


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def log(capability: LogCapability, message: str, tenant: str, denied: list[str]) -> None:
    # Each call through the harness is a new guest call: the per-call line cap never applies.
    call_host_function(
        capability, capability.functions()["log"], None, "info", message, tenant=tenant, denied=denied
    )


def test_a_module_logging_a_little_in_many_calls_is_cut_at_its_byte_rate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    capability = LogCapability(LogBudget(bytes_per_second=1000, burst_bytes=10_000, clock=clock))
    line = "x" * 1000
    denied: list[str] = []
    with caplog.at_level(logging.INFO, logger="trafi.module.listener"):
        for _ in range(50):
            log(capability, line, "acme", denied)
    written = [r for r in caplog.records if r.getMessage().endswith(line)]
    assert len(written) == 10  # the burst
    assert capability.budget.dropped_lines() == {("listener", "acme"): 40}
    # One incident and one note per flood, not one per dropped line.
    assert denied == ["log: more than 1000 bytes/s sustained"]
    assert sum("log flood" in r.getMessage() for r in caplog.records) == 1

    # Another tenant of the same module has its own budget.
    other: list[str] = []
    log(capability, line, "globex", other)
    assert other == [] and capability.budget.dropped_lines().get(("listener", "globex")) is None

    # Time refills the bucket: two seconds buy two lines, then a new flood is a new incident.
    clock.now += 2
    for _ in range(3):
        log(capability, line, "acme", denied)
    assert capability.budget.dropped_lines()[("listener", "acme")] == 41
    assert len(denied) == 2
