"""Modules from an npm registry: parse the spec, find the registry and token, fetch a verified tarball.

One job per module: `spec` reads what the user typed, `registry_config` reads
npm's settings, `resolve` picks a version from the registry's package
document, `integrity` decides which hashes the bytes must match, and `fetch`
downloads them. The names other code imports are re-exported here.
"""

from .fetch import FetchedNpm, fetch_npm
from .registry_config import RegistryConfig, nerf_dart
from .resolve import resolve_version
from .spec import NpmSourceError, NpmSpec, parse_npm_spec

__all__ = [
    "FetchedNpm",
    "NpmSourceError",
    "NpmSpec",
    "RegistryConfig",
    "fetch_npm",
    "nerf_dart",
    "parse_npm_spec",
    "resolve_version",
]
