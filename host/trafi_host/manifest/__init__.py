"""The module manifest: models, loading with full error reports, JSON Schema."""

from .load import load_manifest, parse_manifest
from .model import MANIFEST_FILE, Manifest

__all__ = ["MANIFEST_FILE", "Manifest", "load_manifest", "parse_manifest"]
