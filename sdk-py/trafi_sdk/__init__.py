"""Trafi module SDK: plain Python handlers, built into a WebAssembly component."""

from . import commerce, config, db, events, kv, log, metrics, services
from .errors import (
    AccessDenied,
    HostError,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    NotInComponent,
    Unavailable,
)
from .events import Event
from .http import Principal, Request, Response
from .module import Module
from .outbound_http import FetchResponse, fetch
from .views import ViewRequest

__all__ = [
    "AccessDenied",
    "Event",
    "FetchResponse",
    "HostError",
    "InvalidArgument",
    "LimitExceeded",
    "Module",
    "NotFound",
    "NotInComponent",
    "Principal",
    "Request",
    "Response",
    "Unavailable",
    "ViewRequest",
    "commerce",
    "config",
    "db",
    "events",
    "fetch",
    "kv",
    "log",
    "metrics",
    "services",
]
