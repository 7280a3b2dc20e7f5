"""What the user typed for a git module: `github:user/repo` or `git+<url>`, with npm's `#ref&path:dir`.

Everything is checked before git runs, because the URL, ref and folder end up
on git's command line and in the lock file: only https, ssh and file URLs, no
credentials in the URL, refs that `git check-ref-format` would accept and that
cannot be mistaken for an option or a refspec, and a folder that stays inside
the repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from ...errors import TrafiError

_GITHUB = re.compile(r"github:(?P<user>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)/(?P<repo>[A-Za-z0-9._-]+)")
# What `git check-ref-format` forbids, plus ":" and "+" that would turn a ref into a refspec.
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\+]|\.\.|@\{|//")
_SCHEMES = ("https", "ssh", "file")


class GitSourceError(TrafiError):
    """A git source that cannot be parsed, reached, resolved or safely checked out."""

    exit_code = 13


@dataclass(frozen=True)
class GitSpec:
    url: str  # what git is given (before the user's insteadOf rewrites)
    ref: str | None  # tag, branch or commit sha (full or >= 7 hex); None = the remote HEAD
    subdir: str | None  # module folder inside the repository (monorepos)
    spec: str  # what the user typed, for messages


def parse_git_spec(spec: str) -> GitSpec | None:
    """`github:user/repo[#frag]` or `git+<https|ssh|file>://...[#frag]`; None when not a git spec.

    The fragment is `ref`, `path:sub/dir` or `ref&path:sub/dir` (npm's syntax).
    """
    if spec.startswith("github:"):
        location, _, fragment = spec.partition("#")
        match = _GITHUB.fullmatch(location)
        if match is None:
            raise GitSourceError(f"{spec}: expected github:<user>/<repo>, e.g. github:octocat/hello")
        repo = match["repo"].removesuffix(".git")
        if repo in ("", ".", ".."):
            raise GitSourceError(f"{spec}: {match['repo']!r} is not a repository name")
        url = f"https://github.com/{match['user']}/{repo}.git"
    elif spec.startswith("git+"):
        location, _, fragment = spec.partition("#")
        url = location.removeprefix("git+")
        _check_url(url, spec)
    else:
        return None
    ref, subdir = _parse_fragment(fragment, spec) if "#" in spec else (None, None)
    return GitSpec(url=url, ref=ref, subdir=subdir, spec=spec)


def _check_url(url: str, spec: str) -> None:
    if re.search(r"[\x00-\x20\x7f]", url):
        raise GitSourceError(f"{spec}: the URL contains whitespace or control characters")
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise GitSourceError(
            f"{spec}: unsupported git URL scheme {parts.scheme or '(none)'!r}; "
            "use git+https://, git+ssh:// or git+file://"
        )
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise GitSourceError(f"{spec}: a file URL needs an absolute path: git+file:///abs/path/repo.git")
    elif not parts.hostname or parts.hostname.startswith("-"):
        raise GitSourceError(f"{spec}: the URL has no host")
    # A password or token would end up in `resolved`, i.e. in a lock file.
    if parts.password is not None or (parts.scheme == "https" and parts.username is not None):
        raise GitSourceError(f"{spec}: credentials in the URL are refused; use a git credential helper")
    if parts.path in ("", "/"):
        raise GitSourceError(f"{spec}: the URL names no repository")


def _parse_fragment(fragment: str, spec: str) -> tuple[str | None, str | None]:
    ref: str | None = None
    subdir: str | None = None
    for part in fragment.split("&"):
        if part.startswith("path:"):
            if subdir is not None:
                raise GitSourceError(f"{spec}: more than one path: selector")
            subdir = _check_subdir(part.removeprefix("path:"), spec)
        else:
            checked = _check_ref(part, spec)
            if ref is not None:
                raise GitSourceError(f"{spec}: more than one ref after '#' ({ref!r} and {part!r})")
            ref = checked
    return ref, subdir


def _check_ref(ref: str, spec: str) -> str:
    if not ref:
        raise GitSourceError(f"{spec}: empty ref after '#'; give a tag, branch or commit, or drop the '#'")
    if ref.startswith("-"):
        raise GitSourceError(f"{spec}: ref {ref!r} starts with '-'")
    bad = (
        _REF_FORBIDDEN.search(ref)
        or ref.startswith("/")
        or ref.endswith(("/", ".", ".lock"))
        or any(part.startswith(".") for part in ref.split("/"))
    )
    if bad:
        raise GitSourceError(f"{spec}: {ref!r} is not a valid git ref (see `git check-ref-format`)")
    return ref


def _check_subdir(subdir: str, spec: str) -> str:
    path = PurePosixPath(subdir)
    if not subdir or "\\" in subdir or path.is_absolute():
        raise GitSourceError(f"{spec}: path:{subdir} must be a relative folder such as path:modules/hello")
    if ".." in path.parts:
        raise GitSourceError(f"{spec}: path:{subdir} climbs out of the repository with '..'")
    if ".git" in path.parts or str(path) == ".":
        raise GitSourceError(f"{spec}: path:{subdir} is not a module folder")
    return str(path)
