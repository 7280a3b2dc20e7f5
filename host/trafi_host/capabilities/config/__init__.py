"""config: the capability object (see `host.py`)."""

from .host import ConfigCapability

__all__ = ["ConfigCapability"]
