"""Downloading a module's tarball from its npm registry, verified before it is given a name.

The tarball is streamed into a temporary file inside `into`, hashed and
size-capped as it arrives, and renamed to its `npm pack` name only once every
expected hash matches: on any failure nothing is left behind. Unpacking it
safely is `archive.extract_safely`'s job.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from .integrity import check_downloaded, merge_recorded, registry_integrity, strongest
from .registry_config import RegistryConfig, normalize_registry
from .resolve import fetch_packument, registry_unreachable, resolve_version
from .spec import NpmSourceError, NpmSpec


@dataclass(frozen=True)
class FetchedNpm:
    tarball: Path  # downloaded .tgz (verified), inside `into`
    name: str
    version: str
    integrity: str  # "sha512-..." as verified
    resolved: str  # "<name>@<version>#<integrity>": recorded for reproducible installs
    dependencies: dict[str, str]  # the version's package.json "dependencies"; {} if none


def _download(
    client: httpx.Client,
    url: str,
    target: Path,
    *,
    label: str,
    registry: str,
    config: RegistryConfig,
    algorithms: set[str],
    timeout: float,
    max_bytes: int,
) -> dict[str, str]:
    """Stream `url` into `target`, at most `max_bytes`; returns {algorithm: base64 digest} of the bytes."""
    token = config.token_for(url)  # only to the hosts it was configured for, as npm does
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    hashers = {algorithm: hashlib.new(algorithm) for algorithm in algorithms}
    too_big = NpmSourceError(f"tarball of {label} from {registry} is over the {max_bytes:,} byte cap ({url})")
    try:
        with client.stream("GET", url, headers=headers, timeout=timeout) as response:
            if response.status_code in (401, 403):
                raise config.refusal(label, registry, response.status_code, url)
            if response.status_code != 200:
                raise NpmSourceError(
                    f"registry {registry} answered HTTP {response.status_code} "
                    f"for the tarball of {label} ({url})"
                )
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise too_big
            size = 0
            with target.open("wb") as out:
                # Decoded as npm does: a `Content-Encoding: gzip` is transport, the integrity is of the .tgz.
                # Counting decoded bytes also caps a compression bomb.
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise too_big
                    for hasher in hashers.values():
                        hasher.update(chunk)
                    out.write(chunk)
    except httpx.TransportError as error:
        raise registry_unreachable(label, registry, error) from None
    return {algorithm: base64.b64encode(h.digest()).decode() for algorithm, h in hashers.items()}


def _tarball_name(name: str, version: str) -> str:
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"  # like `npm pack`


def fetch_npm(
    spec: NpmSpec,
    config: RegistryConfig,
    into: Path,
    *,
    timeout: float = 60,
    max_bytes: int = 200 << 20,
    integrity: str | None = None,
    client: httpx.Client | None = None,
) -> FetchedNpm:
    """Resolve `spec` at its registry and download the tarball into `into`, verified.

    `integrity` is the one a lock file recorded: the registry must still state
    it and the bytes must match it. On any failure nothing is left in `into`.
    """
    registry = normalize_registry(config.registry_for(spec.name))
    own_client = client is None
    http = client if client is not None else httpx.Client(follow_redirects=True)
    try:
        packument = fetch_packument(http, spec, registry, config, timeout)
        packument.setdefault("name", spec.name)
        version = resolve_version(packument, spec.range, registry=registry)
        label = f"{spec.name}@{version}"
        entry = packument["versions"][version]
        dist = entry.get("dist") if isinstance(entry, dict) else None
        if not isinstance(dist, dict) or not isinstance(dist.get("tarball"), str):
            raise NpmSourceError(f"{label} at {registry}: the registry gives no tarball URL")
        tarball_url = urljoin(registry, dist["tarball"])
        if urlsplit(tarball_url).scheme not in ("http", "https"):
            raise NpmSourceError(f"{label} at {registry}: tarball URL {tarball_url!r} is not http(s)")
        expected = registry_integrity(spec.name, version, dist, registry)
        if integrity is not None:
            expected = merge_recorded(label, expected, integrity, registry)
        into.mkdir(parents=True, exist_ok=True)
        handle, partial_name = tempfile.mkstemp(prefix=".npm-", suffix=".part", dir=into)
        os.close(handle)
        partial = Path(partial_name)
        try:
            actual = _download(
                http,
                tarball_url,
                partial,
                label=label,
                registry=registry,
                config=config,
                algorithms=set(expected),
                timeout=timeout,
                max_bytes=max_bytes,
            )
            check_downloaded(label, expected, actual, tarball_url)
            target = into / _tarball_name(spec.name, version)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    finally:
        if own_client:
            http.close()
    verified = strongest(expected)
    dependencies = entry.get("dependencies")
    return FetchedNpm(
        tarball=target,
        name=spec.name,
        version=version,
        integrity=verified,
        resolved=f"{spec.name}@{version}#{verified}",
        dependencies={str(k): str(v) for k, v in dependencies.items()}
        if isinstance(dependencies, dict)
        else {},
    )
