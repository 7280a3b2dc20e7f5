"""Structured logging into the host's log; the host tags module and tenant.

Outside a component (and outside the test harness) it prints. The host caps how
much one module logs per second, so a flood cannot drown the host's log:

    from trafi_sdk import log

    log.info(f"order {order_id} rewarded")
"""

from __future__ import annotations

from . import _bindings

__all__ = ["debug", "error", "info", "trace", "warn"]


def _emit(level: str, message: str) -> None:
    wit_log = _bindings.wit_log
    if wit_log is None:
        print(f"[{level.lower()}] {message}")
        return
    wit_log.log(getattr(wit_log.Level, level), message)


def trace(message: str) -> None:
    """Logs `message` at TRACE (the most detailed level).

    Example:

        log.trace(f"payload {payload!r}")
    """
    _emit("TRACE", message)


def debug(message: str) -> None:
    """Logs `message` at DEBUG.

    Example:

        log.debug(f"cache miss for {key}")
    """
    _emit("DEBUG", message)


def info(message: str) -> None:
    """Logs `message` at INFO.

    Example:

        log.info(f"greeting {count} for tenant {request.tenant_id}")
    """
    _emit("INFO", message)


def warn(message: str) -> None:
    """Logs `message` at WARN.

    Example:

        log.warn("points service slow; retrying")
    """
    _emit("WARN", message)


def error(message: str) -> None:
    """Logs `message` at ERROR (a handler's uncaught exception is logged so by the SDK itself).

    Example:

        log.error(f"could not reward order {order_id}: {error}")
    """
    _emit("ERROR", message)
