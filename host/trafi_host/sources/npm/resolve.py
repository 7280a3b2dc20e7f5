"""From a range or dist-tag to one published version, using the registry's package document.

The package document ("packument") is fetched once per spec, preferring npm's
abbreviated form, and capped in size; a version is then chosen the way npm
chooses it. When nothing matches, the error lists what the registry does
publish, so the user can correct the range without another tool.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx
import nodesemver

from .registry_config import RegistryConfig
from .spec import NpmSourceError, NpmSpec

# npm's own header: the abbreviated ("corgi") document when the registry has it, the full one otherwise.
ACCEPT_ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
ACCEPT_FULL = "application/json"
MAX_PACKUMENT_BYTES = 64 << 20  # a packument with thousands of versions is a few MB; this is far above
MAX_LISTED_VERSIONS = 20
_SEMVER = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")


def registry_unreachable(name: str, registry: str, error: httpx.TransportError) -> NpmSourceError:
    kind = "timed out" if isinstance(error, httpx.TimeoutException) else "unreachable"
    return NpmSourceError(
        f"npm registry {registry} {kind} while fetching {name}: {error or type(error).__name__}"
    )


def fetch_packument(
    client: httpx.Client, spec: NpmSpec, registry: str, config: RegistryConfig, timeout: float
) -> dict[str, Any]:
    url = registry + spec.name.replace("/", "%2f")
    token = config.token_for(url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for accept in (ACCEPT_ABBREVIATED, ACCEPT_FULL):
        try:
            with client.stream(
                "GET", url, headers={**headers, "Accept": accept}, timeout=timeout
            ) as response:
                if response.status_code == 406 and accept == ACCEPT_ABBREVIATED:
                    continue  # a registry that refuses to negotiate: ask for the full document
                if response.status_code == 404:
                    hint = "" if token else " (or it is private and no token is configured for it)"
                    raise NpmSourceError(f"unknown package {spec.name} at registry {registry}{hint}")
                if response.status_code in (401, 403):
                    raise config.refusal(spec.name, registry, response.status_code, url)
                if response.status_code != 200:
                    raise NpmSourceError(
                        f"registry {registry} answered HTTP {response.status_code} for {spec.name}"
                    )
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_PACKUMENT_BYTES:
                        raise NpmSourceError(
                            f"registry {registry}: metadata of {spec.name} is over "
                            f"{MAX_PACKUMENT_BYTES:,} bytes"
                        )
        except httpx.TransportError as error:
            raise registry_unreachable(spec.name, registry, error) from None
        try:
            packument = json.loads(body)
        except ValueError:
            packument = None
        if not isinstance(packument, dict) or not isinstance(packument.get("versions"), dict):
            raise NpmSourceError(
                f"registry {registry}: the metadata of {spec.name} is not a package document"
            )
        return packument
    raise NpmSourceError(f"registry {registry} refuses both abbreviated and full metadata for {spec.name}")


def _available_versions(packument: Mapping[str, Any], versions: list[str]) -> str:
    shown = list(nodesemver.rsort(versions, False))
    listed = ", ".join(shown[:MAX_LISTED_VERSIONS]) or "none"
    if len(shown) > MAX_LISTED_VERSIONS:
        listed += f" (and {len(shown) - MAX_LISTED_VERSIONS} more)"
    tags = packument.get("dist-tags")
    if isinstance(tags, dict) and tags:
        listed += "; dist-tags: " + ", ".join(f"{tag}={version}" for tag, version in sorted(tags.items()))
    return listed


def resolve_version(packument: dict[str, Any], range: str, *, registry: str | None = None) -> str:
    """A dist-tag by name, else the highest version in the range (prereleases only if the range names one)."""
    name = packument.get("name", "?")
    at = f" at {registry}" if registry else ""
    raw_versions = packument.get("versions")
    # A version becomes part of a file name: only well-formed ones are considered.
    versions = [v for v in raw_versions if _SEMVER.fullmatch(v)] if isinstance(raw_versions, dict) else []
    tags = packument.get("dist-tags")
    tags = tags if isinstance(tags, dict) else {}
    if range in tags:
        tagged = tags[range]
        if tagged not in versions:
            raise NpmSourceError(
                f"{name}{at}: dist-tag {range!r} points to {tagged!r}, which is not a published version; "
                f"available: {_available_versions(packument, versions)}"
            )
        return str(tagged)
    semver_range = "*" if range == "latest" else range  # a registry without a 'latest' tag
    if nodesemver.valid_range(semver_range, False) is None:
        raise NpmSourceError(
            f"{name}{at}: {range!r} is neither a dist-tag nor a semver range; "
            f"available: {_available_versions(packument, versions)}"
        )
    found = nodesemver.max_satisfying(versions, semver_range, False)
    if found is None:
        raise NpmSourceError(
            f"no version of {name} matches {range!r}{at}; "
            f"available: {_available_versions(packument, versions)}"
        )
    return str(found)
