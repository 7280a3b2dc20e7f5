"""fs: the capability object (see `host.py`)."""

from .host import FsCapability

__all__ = ["FsCapability"]
