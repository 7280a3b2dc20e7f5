"""commerce: the capability object (see `host.py`)."""

from .host import CommerceCapability

__all__ = ["CommerceCapability"]
