"""http: the capability object (see `host.py`)."""

from .host import HttpCapability

__all__ = ["HttpCapability"]
