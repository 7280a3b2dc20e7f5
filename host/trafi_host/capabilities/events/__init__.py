"""events: the capability object (see `host.py`)."""

from .host import EventsCapability

__all__ = ["EventsCapability"]
