"""Trafi module host: runs third-party modules as WebAssembly components."""

from .version import HOST_VERSION, WIT_VERSION

__all__ = ["HOST_VERSION", "WIT_VERSION"]
