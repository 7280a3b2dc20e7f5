"""`trafi:host/log`: module log lines into the host's log, tagged with module and tenant."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

from ..base import hostcall
from ..context import current_call

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


class LogCapability:
    name: ClassVar[str] = "log"
    interface: ClassVar[str] = "trafi:host/log"

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {"log": hostcall("log.log", returns_result=False)(self.log)}

    def log(self, level: str, message: str) -> None:
        context = current_call()
        context.log_lines += 1
        if context.log_lines > MAX_LINES_PER_CALL:
            if context.log_lines == MAX_LINES_PER_CALL + 1:
                logging.getLogger(f"trafi.module.{context.module}").warning(
                    "[%s tenant=%s] log flood: more than %d lines in one call; dropping the rest",
                    context.module,
                    context.tenant_id,
                    MAX_LINES_PER_CALL,
                )
                context.denied(f"log: more than {MAX_LINES_PER_CALL} lines in one call")
            return
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + f"... [{len(message) - MAX_MESSAGE} chars cut]"
        logging.getLogger(f"trafi.module.{context.module}").log(
            _LEVELS.get(level, logging.INFO),
            "[%s tenant=%s] %s",
            context.module,
            context.tenant_id,
            message,
            extra={"trafi_module": context.module, "trafi_tenant": context.tenant_id},
        )
