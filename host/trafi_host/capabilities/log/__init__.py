"""log: the capability object (see `host.py`)."""

from .host import LogCapability

__all__ = ["LogCapability"]
