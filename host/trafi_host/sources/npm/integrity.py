"""The hashes a tarball must match: the registry's, the lock file's, and the downloaded bytes'.

Nothing fetched is trusted. The registry states an integrity (an SRI string,
or a bare sha1 `shasum` on old registries); a lock file may record one too,
which the registry must still state and the bytes must match whatever the
registry says. The strongest verified hash is the one recorded.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from .spec import NpmSourceError

# Strongest first: the one recorded when a registry gives several.
ALGORITHMS = ("sha512", "sha384", "sha256", "sha1")


def parse_integrity(text: str) -> dict[str, str]:
    """SRI `alg-base64[?opts]` entries, space separated -> {alg: base64}; unknown algorithms dropped."""
    found: dict[str, str] = {}
    for entry in text.split():
        algorithm, dash, digest = entry.partition("-")
        if dash and algorithm in ALGORITHMS and digest:
            found.setdefault(algorithm, digest.split("?", 1)[0])
    return found


def registry_integrity(name: str, version: str, dist: Mapping[str, Any], registry: str) -> dict[str, str]:
    """{algorithm: base64} from a version's `dist`: its SRI `integrity`, else its hex sha1 `shasum`."""
    if isinstance(dist.get("integrity"), str):
        parsed = parse_integrity(dist["integrity"])
        if parsed:
            return parsed
    shasum = dist.get("shasum")
    if isinstance(shasum, str):
        try:
            return {"sha1": base64.b64encode(bytes.fromhex(shasum)).decode()}
        except ValueError:
            pass
    raise NpmSourceError(f"{name}@{version} at {registry}: the registry gives no usable integrity or shasum")


def merge_recorded(label: str, stated: dict[str, str], recorded: str, registry: str) -> dict[str, str]:
    """The registry's hashes plus the lock file's, refused if the registry now states different ones."""
    locked = parse_integrity(recorded)
    if not locked:
        raise NpmSourceError(f"{label}: the recorded integrity {recorded!r} is not an SRI (sha512-...)")
    for algorithm, digest in locked.items():
        if algorithm in stated and stated[algorithm] != digest:
            raise NpmSourceError(
                f"integrity check failed for {label}: expected {algorithm}-{digest} (recorded), "
                f"got {algorithm}-{stated[algorithm]} from registry {registry}"
            )
    # The recorded hashes are checked against the bytes too, whatever the registry states.
    return {**stated, **locked}


def check_downloaded(label: str, expected: Mapping[str, str], actual: Mapping[str, str], url: str) -> None:
    for algorithm in ALGORITHMS:
        if algorithm in expected and actual[algorithm] != expected[algorithm]:
            raise NpmSourceError(
                f"integrity check failed for {label}: expected {algorithm}-{expected[algorithm]}, "
                f"got {algorithm}-{actual[algorithm]} (tarball {url})"
            )


def strongest(hashes: Mapping[str, str]) -> str:
    """The strongest of `hashes` as an SRI string, `sha512-...`."""
    algorithm = next(a for a in ALGORITHMS if a in hashes)
    return f"{algorithm}-{hashes[algorithm]}"
