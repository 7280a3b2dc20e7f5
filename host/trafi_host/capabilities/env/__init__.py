"""env: the capability object (see `host.py`)."""

from .host import EnvCapability

__all__ = ["EnvCapability"]
