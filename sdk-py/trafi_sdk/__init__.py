"""Trafi module SDK: plain Python handlers, built into a WebAssembly component."""

from . import config, kv, log, services
from .errors import AccessDenied, HostError, InvalidArgument, LimitExceeded, Unavailable
from .http import Principal, Request, Response
from .module import Module
from .outbound_http import FetchResponse, fetch

__all__ = [
    "AccessDenied",
    "FetchResponse",
    "HostError",
    "InvalidArgument",
    "LimitExceeded",
    "Module",
    "Principal",
    "Request",
    "Response",
    "Unavailable",
    "config",
    "fetch",
    "kv",
    "log",
    "services",
]
