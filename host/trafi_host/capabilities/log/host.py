"""`trafi:host/log`: module log lines into the host's log, tagged with module and tenant."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from ..base import Capability, HostFunction, InstanceFacts, hostcall
from ..call import current_call
from .budget import LogBudget

MAX_MESSAGE = 8192
# Lines one call may log; past it lines are dropped (one note, one incident).
MAX_LINES_PER_CALL = 200
_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}


@dataclass
class LogState:
    logger: logging.Logger
    call_number: int = 0  # the call `lines` counts for
    lines: int = 0


class LogCapability(Capability[LogState]):
    name: ClassVar[str] = "log"
    interface: ClassVar[str | None] = "trafi:host/log"
    summary: ClassVar[str] = (
        "Log lines into the host's log, tagged with module and tenant; always granted, "
        "within a per-call line cap and a per-(module, tenant) byte rate."
    )

    def __init__(self, budget: LogBudget | None = None) -> None:
        self.budget = budget or LogBudget()

    def prepare(self, facts: InstanceFacts) -> LogState:
        return LogState(logging.getLogger(f"trafi.module.{facts.module}"))

    def functions(self) -> dict[str, HostFunction]:
        return {"log": hostcall("log.log", returns_result=False)(self.log)}

    def log(self, level: str, message: str) -> None:
        context = current_call()
        state = self.state(context)
        if state.call_number != context.call_number:
            state.call_number, state.lines = context.call_number, 0
        state.lines += 1
        if state.lines > MAX_LINES_PER_CALL:
            if state.lines == MAX_LINES_PER_CALL + 1:
                state.logger.warning(
                    "[%s tenant=%s] log flood: more than %d lines in one call; dropping the rest",
                    context.module,
                    context.tenant_id,
                    MAX_LINES_PER_CALL,
                )
                context.denied(f"log: more than {MAX_LINES_PER_CALL} lines in one call")
            return
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + f"... [{len(message) - MAX_MESSAGE} chars cut]"
        allowed, flood_began = self.budget.take(context.module, context.tenant_id, len(message))
        if not allowed:
            if flood_began:
                state.logger.warning(
                    "[%s tenant=%s] log flood: more than %g bytes/s sustained; dropping lines until it slows",
                    context.module,
                    context.tenant_id,
                    self.budget.bytes_per_second,
                )
                context.denied(f"log: more than {self.budget.bytes_per_second:g} bytes/s sustained")
            return
        extra: dict[str, Any] = {"trafi_module": context.module, "trafi_tenant": context.tenant_id}
        state.logger.log(
            _LEVELS.get(level, logging.INFO),
            "[%s tenant=%s] %s",
            context.module,
            context.tenant_id,
            message,
            extra=extra,
        )
