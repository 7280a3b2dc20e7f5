"""The WIT world versions this host serves, newest first, each behind its adapter.

A module's manifest names the world it was built for; `world_for` picks that
world's adapter. A new version is a new adapter file and one line here; the
older adapters keep serving modules built for their worlds.
"""

from __future__ import annotations

from ...version import SUPPORTED_WIT_VERSIONS
from .base import BadValue, LiftedResponse, ModuleExports, WorldAdapter
from .v0_1 import WorldV0_1
from .v0_2 import WorldV0_2
from .v0_3 import WorldV0_3

# Newest first: where a choice is open (a component that does not say), the newest wins.
SUPPORTED_WORLDS: tuple[WorldAdapter, ...] = (WorldV0_3(), WorldV0_2(), WorldV0_1())
NEWEST_WORLD = SUPPORTED_WORLDS[0]
MIN_WORLD_VERSION = SUPPORTED_WORLDS[-1].version
MAX_WORLD_VERSION = NEWEST_WORLD.version

if tuple(world.version for world in SUPPORTED_WORLDS) != SUPPORTED_WIT_VERSIONS:
    raise RuntimeError("runtime/world adapters and version.SUPPORTED_WIT_VERSIONS disagree")


def world_for(version: str | None) -> WorldAdapter | None:
    """The adapter of that world version, or None when this host does not serve it."""
    return next((world for world in SUPPORTED_WORLDS if world.version == version), None)


__all__ = [
    "MAX_WORLD_VERSION",
    "MIN_WORLD_VERSION",
    "NEWEST_WORLD",
    "SUPPORTED_WORLDS",
    "BadValue",
    "LiftedResponse",
    "ModuleExports",
    "WorldAdapter",
    "world_for",
]
