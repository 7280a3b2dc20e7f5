"""kv: the capability object (see `host.py`)."""

from .host import KvCapability

__all__ = ["KvCapability"]
