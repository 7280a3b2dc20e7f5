"""What the user typed for an npm module: `name[@range]`, parsed and checked as npm would.

The spec is read before any registry is contacted, so a misspelt name or an
impossible range is refused with the reason instead of a registry's 404. A
spec that is clearly something else (a path, an archive, a git or URL spec) is
not an npm spec at all, which lets the caller try its other kinds of source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nodesemver

from ...errors import TrafiError

_NAME_PART = re.compile(r"[a-z0-9._-]+")  # url-safe, lowercase, none of npm's banned ~'!()*
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NOT_NPM_PREFIXES = (
    "./", "../", "/", "~", ".\\", "..\\", "file:", "git+", "git:", "github:", "gitlab:", "bitbucket:",
    "gist:", "http:", "https:", "ssh:",
)  # fmt: skip
_ARCHIVE_SUFFIXES = (".tgz", ".tar.gz", ".tar")


class NpmSourceError(TrafiError):
    """A module could not be found, resolved, downloaded or verified from an npm registry."""

    exit_code = 14


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
