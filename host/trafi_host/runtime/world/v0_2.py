"""`trafi:host/module@0.2.0`: 0.1.0 plus the `db` and `metrics` imports (`wit/since_v0.2.0/`).

The exports and their shapes did not change, so the adapter is 0.1's under a new
version: what differs is what the linker offers (capabilities `since` 0.2.0).
"""

from __future__ import annotations

from typing import ClassVar

from .v0_1 import WorldV0_1


class WorldV0_2(WorldV0_1):
    version: ClassVar[str] = "0.2.0"
