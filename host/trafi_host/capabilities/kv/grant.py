"""`permissions.kv`: the manifest section of the key-value capability."""

from __future__ import annotations

from ...manifest.base import Grant


class KvGrant(Grant):
    """Key-value state scoped to the calling tenant and this module."""
