"""services: the capability object (see `host.py`)."""

from .host import ServiceClientCapability

__all__ = ["ServiceClientCapability"]
