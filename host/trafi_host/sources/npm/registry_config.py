"""Which registry serves a package and which token goes with it, read from npm's own settings.

Registry and token settings follow npm's `.npmrc` conventions (scoped
registries, `${VAR}` expansion, tokens keyed by "nerf-dart" URL prefixes) so
that a project that already installs private packages with npm needs no second
configuration. Each setting remembers the file and line it came from, so a
registry's refusal can name the file to fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .spec import NpmSourceError

DEFAULT_REGISTRY = "https://registry.npmjs.org/"
_ENV_REF = re.compile(r"(?<!\\)(\\*)\$\{([^${}]+)\}")


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


def normalize_registry(url: str) -> str:
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
    return normalize_registry(value)


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
    def load(cls, project_dir: Path | None, env: Mapping[str, str] = os.environ) -> RegistryConfig:
        """Environment over `<project>/.npmrc` over `~/.npmrc` over npm's public registry."""
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
                    nerfed = normalize_registry(key[: -len(":_authToken")])
                    tokens[nerfed] = value
                    origins[nerfed] = origin
        if env.get("TRAFI_NPM_REGISTRY"):
            default = _registry_url(env["TRAFI_NPM_REGISTRY"], "env TRAFI_NPM_REGISTRY")
            origins["registry"] = "env TRAFI_NPM_REGISTRY"
        if env.get("TRAFI_NPM_TOKEN"):
            nerfed = nerf_dart(default)
            tokens[nerfed] = env["TRAFI_NPM_TOKEN"]
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

    def refusal(self, name: str, registry: str, status: int, url: str) -> NpmSourceError:
        """The error for an HTTP 401/403: which token to add, or which file's token to fix."""
        key = self._token_key(url)
        if key is None:
            return NpmSourceError(
                f"registry {registry} refused {name} (HTTP {status}): "
                "it needs a token and none is configured; "
                f"add '{nerf_dart(registry)}:_authToken=...' to the project's .npmrc or ~/.npmrc, "
                "or set TRAFI_NPM_TOKEN for the default registry"
            )
        origin = self.origins.get(key, key)
        return NpmSourceError(
            f"registry {registry} refused {name} (HTTP {status}): the token for {key} (from {origin}) "
            "is not accepted or has no access to this package"
        )
