"""Modules from an npm registry: parse the spec, find the registry and token, fetch a verified tarball.

Registry and token settings follow npm's own `.npmrc` conventions so that a
project that already installs private packages with npm needs no second
configuration. Nothing fetched is trusted: the tarball is checked against the
registry's integrity (and the lock file's, when there is one) before it is
given a name in `into`; unpacking it safely is `archive.extract_safely`'s job.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import nodesemver

from ..errors import ExitCode, TrafiError
from ..settings import HostSettings

DEFAULT_REGISTRY = "https://registry.npmjs.org/"
# npm's own header: the abbreviated ("corgi") document when the registry has it, the full one otherwise.
ACCEPT_ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
ACCEPT_FULL = "application/json"
MAX_PACKUMENT_BYTES = 64 << 20  # a packument with thousands of versions is a few MB; this is far above
MAX_LISTED_VERSIONS = 20

# Strongest first: the one recorded when a registry gives several.
_ALGORITHMS = ("sha512", "sha384", "sha256", "sha1")
_SEMVER = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
_NAME_PART = re.compile(r"[a-z0-9._-]+")  # url-safe, lowercase, none of npm's banned ~'!()*
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_ENV_REF = re.compile(r"(?<!\\)(\\*)\$\{([^${}]+)\}")
_NOT_NPM_PREFIXES = (
    "./", "../", "/", "~", ".\\", "..\\", "file:", "git+", "git:", "github:", "gitlab:", "bitbucket:",
    "gist:", "http:", "https:", "ssh:",
)  # fmt: skip
_ARCHIVE_SUFFIXES = (".tgz", ".tar.gz", ".tar")


class NpmSourceError(TrafiError):
    """A module could not be found, resolved, downloaded or verified from an npm registry."""

    exit_code = ExitCode.NPM_SOURCE


@dataclass(frozen=True)
class NpmSpec:
    name: str  # "hello" or "@scope/hello"
    range: str  # semver range or dist-tag; "latest" when none given
    spec: str  # what the user typed


def validate_package_name(name: str, spec: str | None = None) -> None:
    """npm's rules for new package names; raises NpmSourceError saying which one is broken."""
    where = f"{spec!r}: " if spec is not None and spec != name else ""

    def bad(reason: str) -> NpmSourceError:
        return NpmSourceError(f"{where}invalid npm package name {name!r}: {reason}")

    if not name:
        raise bad("it is empty")
    if len(name) > 214:
        raise bad(f"{len(name)} characters; at most 214")
    if name != name.strip():
        raise bad("leading or trailing spaces")
    if name.startswith((".", "_")):
        raise bad("it cannot start with '.' or '_'")
    if name.lower() in ("node_modules", "favicon.ico"):
        raise bad("the name is reserved")
    if name != name.lower():
        raise bad("it must be lowercase")
    if name.startswith("@"):
        scope, slash, package = name[1:].partition("/")
        if not slash or not scope or not package:
            raise bad("a scoped name is '@scope/name'")
        parts = [scope, package]
    else:
        parts = [name]
    for part in parts:
        if part in (".", "..") or not _NAME_PART.fullmatch(part):
            raise bad("only a-z, 0-9, '-', '.' and '_' are allowed (one '/' after an '@scope')")


def parse_npm_spec(spec: str) -> NpmSpec | None:
    """`name`, `name@range`, `@scope/name@range`, or any of these after `npm:`.

    None when the spec is clearly something else (a path, an archive, a git or
    URL spec), so the caller can try its other sources. With the explicit
    `npm:` prefix nothing is "something else": a bad name is an error.
    """
    text = spec.strip()
    explicit = text.startswith("npm:")
    if explicit:
        text = text[len("npm:") :].strip()
    elif (
        not text
        or text in (".", "..")
        or text.startswith(_NOT_NPM_PREFIXES)
        or text.lower().endswith(_ARCHIVE_SUFFIXES)
        or "\\" in text
        or re.match(r"[A-Za-z]:[\\/]", text)  # a Windows drive
        or (not text.startswith("@") and "/" in text)  # npm reads "owner/repo" as GitHub
    ):
        return None
    at = text.find("@", 1)  # position 0 is a scope's '@'
    name, version_range = (text, "") if at < 0 else (text[:at], text[at + 1 :].strip())
    validate_package_name(name, spec)
    version_range = version_range or "latest"
    if nodesemver.valid_range(version_range, False) is None and not _TAG.fullmatch(version_range):
        raise NpmSourceError(f"{spec!r}: {version_range!r} is neither a semver range nor a dist-tag")
    return NpmSpec(name=name, range=version_range, spec=spec)


def nerf_dart(url: str) -> str:
    """npm's credential key for a URL: `//host[:port]/path/`, scheme, auth, query and last segment dropped."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        raise NpmSourceError(f"invalid URL {url!r}: bad port") from None
    if port is not None and (parts.scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    path = parts.path or "/"
    path = path[: path.rfind("/") + 1]  # like url.resolve(url, '.'): the folder, not the document
    return f"//{host}{path}"


def _normalize_registry(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _registry_url(value: str, origin: str) -> str:
    """A registry setting, checked where it is read so the error names the file and line."""
    parts = urlsplit(value)
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a malformed port
        valid = False
    if not valid:
        raise NpmSourceError(f"{origin}: registry {value!r} is not an http(s) URL")
    return _normalize_registry(value)


def _expand_env(text: str, env: Mapping[str, str]) -> str:
    """npm's `${VAR}` expansion: `${VAR?}` is empty when unset, an unset `${VAR}` stays as written."""

    def replace(match: re.Match[str]) -> str:
        escapes, name = match.group(1), match.group(2)
        if len(escapes) % 2:  # an odd number of backslashes escapes the reference
            return match.group(0)[(len(escapes) + 1) // 2 :]
        optional = name.endswith("?")
        value = env.get(name.rstrip("?"))
        if value is None:
            value = "" if optional else "${" + name + "}"
        return escapes[len(escapes) // 2 :] + value

    return _ENV_REF.sub(replace, text)


def _read_npmrc(path: Path, env: Mapping[str, str]) -> Iterator[tuple[str, str, str]]:
    """(key, value, origin) for each setting; sections and unknown keys are the caller's to ignore."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    except (OSError, UnicodeDecodeError) as error:
        raise NpmSourceError(f"cannot read npm settings {path}: {error}") from None
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith((";", "#", "[")):
            continue
        key, equals, value = stripped.partition("=")
        if not equals:
            continue
        key, value = _expand_env(key.strip(), env), _expand_env(value.strip(), env)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        yield key, value, f"{path} line {number}"


@dataclass(frozen=True)
class RegistryConfig:
    default: str  # registry base URL
    scoped: dict[str, str]  # "@scope" -> URL
    tokens: dict[str, str]  # "//host:port/path/" -> token (npm's nerf-dart keys)
    # Where each setting came from ("registry", "@scope", or a token key -> "<file> line N" / "env X"),
    # so that a refusal can say which file to fix.
    origins: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        project_dir: Path | None,
        settings: HostSettings | None = None,
        env: Mapping[str, str] = os.environ,
    ) -> RegistryConfig:
        """`TRAFI_NPM_*` settings over `<project>/.npmrc` over `~/.npmrc` over npm's public registry.

        `env` is what `.npmrc` files expand `${VAR}` with (and where `HOME` is); the
        settings default to those `env` gives.
        """
        settings = settings or HostSettings.from_environment(env)
        default, scoped, tokens = DEFAULT_REGISTRY, dict[str, str](), dict[str, str]()
        origins: dict[str, str] = {"registry": "npm's default"}
        files: list[Path] = []
        home = env.get("HOME")
        if home:
            files.append(Path(home) / ".npmrc")
        if project_dir is not None:
            files.append(project_dir / ".npmrc")
        for path in files:  # later files win
            for key, value, origin in _read_npmrc(path, env):
                if key == "registry":
                    default = _registry_url(value, origin)
                    origins["registry"] = origin
                elif key.startswith("@") and key.endswith(":registry"):
                    scope = key[: -len(":registry")]
                    scoped[scope] = _registry_url(value, origin)
                    origins[scope] = origin
                elif key.startswith("//") and key.endswith(":_authToken"):
                    nerfed = _normalize_registry(key[: -len(":_authToken")])
                    tokens[nerfed] = value
                    origins[nerfed] = origin
        if settings.npm_registry:
            default = _registry_url(settings.npm_registry, "env TRAFI_NPM_REGISTRY")
            origins["registry"] = "env TRAFI_NPM_REGISTRY"
        if settings.npm_token_value:
            nerfed = nerf_dart(default)
            tokens[nerfed] = settings.npm_token_value
            origins[nerfed] = "env TRAFI_NPM_TOKEN"
        return cls(default=default, scoped=scoped, tokens=tokens, origins=origins)

    def registry_for(self, name: str) -> str:
        if name.startswith("@"):
            return self.scoped.get(name.split("/", 1)[0], self.default)
        return self.default

    def _token_key(self, url: str) -> str | None:
        nerfed = nerf_dart(url)
        matches = [key for key in self.tokens if nerfed.startswith(key)]
        return max(matches, key=len) if matches else None

    def token_for(self, url: str) -> str | None:
        """The token of the longest nerf-dart key that is a prefix of the URL's (same host, parent path)."""
        key = self._token_key(url)
        return self.tokens[key] if key is not None else None


@dataclass(frozen=True)
class FetchedNpm:
    tarball: Path  # downloaded .tgz (verified), inside `into`
    name: str
    version: str
    integrity: str  # "sha512-..." as verified
    resolved: str  # "<name>@<version>#<integrity>": recorded for reproducible installs
    dependencies: dict[str, str]  # the version's package.json "dependencies"; {} if none


def _sort_versions(versions: list[str]) -> list[str]:
    return list(nodesemver.rsort(versions, False))


def _available(packument: Mapping[str, Any], versions: list[str]) -> str:
    shown = _sort_versions(versions)
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
                f"available: {_available(packument, versions)}"
            )
        return str(tagged)
    semver_range = "*" if range == "latest" else range  # a registry without a 'latest' tag
    if nodesemver.valid_range(semver_range, False) is None:
        raise NpmSourceError(
            f"{name}{at}: {range!r} is neither a dist-tag nor a semver range; "
            f"available: {_available(packument, versions)}"
        )
    found = nodesemver.max_satisfying(versions, semver_range, False)
    if found is None:
        raise NpmSourceError(
            f"no version of {name} matches {range!r}{at}; available: {_available(packument, versions)}"
        )
    return str(found)


def _parse_integrity(text: str) -> dict[str, str]:
    """SRI `alg-base64[?opts]` entries, space separated -> {alg: base64}; unknown algorithms dropped."""
    found: dict[str, str] = {}
    for entry in text.split():
        algorithm, dash, digest = entry.partition("-")
        if dash and algorithm in _ALGORITHMS and digest:
            found.setdefault(algorithm, digest.split("?", 1)[0])
    return found


def _registry_integrity(name: str, version: str, dist: Mapping[str, Any], registry: str) -> dict[str, str]:
    if isinstance(dist.get("integrity"), str):
        parsed = _parse_integrity(dist["integrity"])
        if parsed:
            return parsed
    shasum = dist.get("shasum")
    if isinstance(shasum, str):
        try:
            return {"sha1": base64.b64encode(bytes.fromhex(shasum)).decode()}
        except ValueError:
            pass
    raise NpmSourceError(f"{name}@{version} at {registry}: the registry gives no usable integrity or shasum")


def _strongest(hashes: Mapping[str, str]) -> str:
    algorithm = next(a for a in _ALGORITHMS if a in hashes)
    return f"{algorithm}-{hashes[algorithm]}"


def _refused(name: str, registry: str, status: int, config: RegistryConfig, url: str) -> NpmSourceError:
    key = config._token_key(url)
    if key is None:
        where = (
            f"add '{nerf_dart(registry)}:_authToken=...' to the project's .npmrc or ~/.npmrc, "
            "or set TRAFI_NPM_TOKEN for the default registry"
        )
        return NpmSourceError(
            f"registry {registry} refused {name} (HTTP {status}): it needs a token and none is configured; "
            + where
        )
    origin = config.origins.get(key, key)
    return NpmSourceError(
        f"registry {registry} refused {name} (HTTP {status}): the token for {key} (from {origin}) "
        "is not accepted or has no access to this package"
    )


def _unreachable(name: str, registry: str, error: httpx.TransportError) -> NpmSourceError:
    kind = "timed out" if isinstance(error, httpx.TimeoutException) else "unreachable"
    return NpmSourceError(
        f"npm registry {registry} {kind} while fetching {name}: {error or type(error).__name__}"
    )


def _get_packument(
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
                    raise _refused(spec.name, registry, response.status_code, config, url)
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
            raise _unreachable(spec.name, registry, error) from None
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
                raise _refused(label, registry, response.status_code, config, url)
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
        raise _unreachable(label, registry, error) from None
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
    registry = _normalize_registry(config.registry_for(spec.name))
    own_client = client is None
    http = client if client is not None else httpx.Client(follow_redirects=True)
    try:
        packument = _get_packument(http, spec, registry, config, timeout)
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
        expected = _registry_integrity(spec.name, version, dist, registry)
        if integrity is not None:
            locked = _parse_integrity(integrity)
            if not locked:
                raise NpmSourceError(
                    f"{label}: the recorded integrity {integrity!r} is not an SRI (sha512-...)"
                )
            for algorithm, digest in locked.items():
                if algorithm in expected and expected[algorithm] != digest:
                    raise NpmSourceError(
                        f"integrity check failed for {label}: expected {algorithm}-{digest} (recorded), "
                        f"got {algorithm}-{expected[algorithm]} from registry {registry}"
                    )
            # The recorded hashes are checked against the bytes too, whatever the registry states.
            expected = {**expected, **locked}
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
            for algorithm in _ALGORITHMS:
                if algorithm in expected and actual[algorithm] != expected[algorithm]:
                    raise NpmSourceError(
                        f"integrity check failed for {label}: expected {algorithm}-{expected[algorithm]}, "
                        f"got {algorithm}-{actual[algorithm]} (tarball {tarball_url})"
                    )
            target = into / _tarball_name(spec.name, version)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    finally:
        if own_client:
            http.close()
    verified = _strongest(expected)
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
