"""A manifest for grant-check tests: the minimum plus the permissions under test."""

from __future__ import annotations

from typing import Any

from trafi_host.manifest.load import parse_manifest
from trafi_host.manifest.model import Manifest


def manifest_with(permissions: dict[str, Any]) -> Manifest:
    return parse_manifest(
        {
            "name": "shop-sync",
            "version": "1.0.0",
            "description": "Syncs the shop.",
            "author": "Ann",
            "license": "MIT",
            "trafi": "^0.1.0",
            "entry": {"backend": "dist/shop-sync.wasm"},
            "permissions": permissions,
        }
    )
