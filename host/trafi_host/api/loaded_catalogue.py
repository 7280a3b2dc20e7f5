"""Every permission a caller could hold on this host now: the core's and each loaded module's.

What the principal's `permissions` is resolved against (world 0.3.0), rebuilt
only when the set of loads changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..auth.permissions import CORE_PERMISSIONS
from ..permission_catalogue import module_permissions
from ..runtime import ModuleImage


class LoadedCatalogue:
    """Used on the event loop only (the module proxy), so never by two threads at once."""

    def __init__(self) -> None:
        self._key: frozenset[str] = frozenset()
        self._names: tuple[str, ...] = tuple(sorted(CORE_PERMISSIONS))

    def names(self, images: Mapping[str, ModuleImage]) -> tuple[str, ...]:
        key = frozenset(image.load_id for image in images.values())
        if key != self._key:
            names = set(CORE_PERMISSIONS)
            for image in list(images.values()):
                names.update(module_permissions(image.manifest))
            self._key, self._names = key, tuple(sorted(names))
        return self._names
