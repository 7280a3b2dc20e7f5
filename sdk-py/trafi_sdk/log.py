"""Structured logging into the host's log; the host tags module and tenant."""

from __future__ import annotations

from . import _bindings

_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")


def _emit(level: str, message: str) -> None:
    wit_log = _bindings.wit_log
    if wit_log is None:
        print(f"[{level.lower()}] {message}")
        return
    wit_log.log(getattr(wit_log.Level, level), message)


def trace(message: str) -> None:
    _emit("TRACE", message)


def debug(message: str) -> None:
    _emit("DEBUG", message)


def info(message: str) -> None:
    _emit("INFO", message)


def warn(message: str) -> None:
    _emit("WARN", message)


def error(message: str) -> None:
    _emit("ERROR", message)
