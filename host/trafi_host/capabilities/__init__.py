"""Host capabilities: one package per WIT interface, composed in one ordered tuple."""

from .base import Capability, hostcall
from .commerce.host import CommerceCapability
from .config.host import ConfigCapability
from .events.host import EventsCapability
from .http.host import HttpCapability
from .kv.host import KvCapability
from .log.host import LogCapability
from .services.host import ServiceClientCapability


def default_capabilities() -> tuple[Capability, ...]:
    """Every capability the 0.1 world imports, in link order."""
    return (
        LogCapability(),
        ConfigCapability(),
        KvCapability(),
        ServiceClientCapability(),
        EventsCapability(),
        CommerceCapability(),
        HttpCapability(),
    )


__all__ = [
    "Capability",
    "CommerceCapability",
    "ConfigCapability",
    "EventsCapability",
    "KvCapability",
    "LogCapability",
    "ServiceClientCapability",
    "default_capabilities",
    "hostcall",
]
