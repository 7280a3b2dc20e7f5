"""The host's HTTP surface (FastAPI). The runtime below it knows nothing of HTTP."""

from .app import create_app

__all__ = ["create_app"]
