"""Fetching one commit of a git repository and checking it out as a module folder.

Only the wanted commit is fetched (`--depth 1`) when the server allows it,
into a fresh repository inside `into`; older servers that refuse a commit that
is not a branch or tag tip get a full fetch of branches and tags instead. The
tree is inspected before checkout (no links, no submodules, a size limit),
checked out, `.git` is removed, and the result is walked again as a second
guard. On any failure nothing is left in `into`.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from .runner import GitRunner, git_error_text
from .spec import GitSourceError, GitSpec

_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")  # SHA-1 and SHA-256 repositories
_SHORT_SHA = re.compile(r"[0-9a-fA-F]{7,63}")
_REFS_SHOWN = 10


@dataclass(frozen=True)
class FetchedGit:
    folder: Path  # the checked-out module folder (subdir applied)
    commit: str  # full resolved commit id
    resolved: str  # "<url>#<commit>[&path:<subdir>]": what a reproducible install records


def fetch_git(spec: GitSpec, into: Path, *, timeout: float = 120, max_bytes: int = 200 << 20) -> FetchedGit:
    """Check out `spec` into `into` (created; must be empty). `timeout` bounds the whole fetch.

    On any failure everything written under `into` is removed.
    """
    git = shutil.which("git")
    if git is None:
        raise GitSourceError(f"{spec.spec}: git is not installed; it is needed for git sources")
    created = not into.exists()
    if not created and (not into.is_dir() or any(into.iterdir())):
        raise GitSourceError(f"{spec.spec}: {into} is not an empty folder")
    into.mkdir(parents=True, exist_ok=True)
    runner = GitRunner(git, spec, into, time.monotonic() + timeout)
    try:
        commit = _fetch_commit(runner, spec)
        folder = _checkout(runner, spec, commit, max_bytes)
    except BaseException:
        if created:
            shutil.rmtree(into, ignore_errors=True)
        else:
            _empty_folder(into)
        raise
    resolved = f"{spec.url}#{commit}" + (f"&path:{spec.subdir}" if spec.subdir else "")
    return FetchedGit(folder=folder, commit=commit, resolved=resolved)


def _fetch_commit(git: GitRunner, spec: GitSpec) -> str:
    """Fetches the commit `spec` names into the fresh repository; returns its full id."""
    git.run("init", "--quiet", "--template=", ".", what="git init")
    git.use_batch_mode_ssh()
    ref = spec.ref
    if ref is None or ref == "HEAD":
        _shallow_fetch(git, "HEAD", unreachable=True)
        return _commit_of(git, "FETCH_HEAD")
    listing = git.run("ls-remote", "--heads", "--tags", "--", spec.url, what="git ls-remote", check=False)
    if listing.returncode != 0:
        raise GitSourceError(f"{spec.spec}: cannot reach {spec.url}: {git_error_text(listing.stderr)}")
    refs = _parse_listing(listing.stdout)
    candidates = [ref] if ref.startswith("refs/") else [f"refs/tags/{ref}", f"refs/heads/{ref}"]
    for name in candidates:
        if name in refs:
            _shallow_fetch(git, name)
            return _commit_of(git, "FETCH_HEAD")
    if _FULL_SHA.fullmatch(ref):
        return _fetch_by_sha(git, spec, ref.lower(), refs)
    if _SHORT_SHA.fullmatch(ref):
        tips = {sha for sha in refs.values() if sha.startswith(ref.lower())}
        if len(tips) == 1:  # the tip of a branch or tag: no need for the whole history
            return _fetch_by_sha(git, spec, tips.pop(), refs)
        return _full_fetch(git, spec, ref.lower(), refs)
    raise GitSourceError(f"{spec.spec}: ref {ref} not found in {spec.url}; {_available_refs(refs)}")


def _parse_listing(stdout: str) -> dict[str, str]:
    """`ls-remote` lines to {refname: commit}; annotated tags are peeled to their commit."""
    refs: dict[str, str] = {}
    for line in stdout.splitlines():
        sha, _, name = line.partition("\t")
        if name.endswith("^{}"):
            refs[name.removesuffix("^{}")] = sha.lower()
        else:
            refs.setdefault(name, sha.lower())
    return refs


def _available_refs(refs: dict[str, str]) -> str:
    names = [name.removeprefix("refs/heads/") for name in refs if name.startswith("refs/heads/")]
    names += [name.removeprefix("refs/tags/") for name in refs if name.startswith("refs/tags/")]
    if not names:
        return "the repository has no tags or branches"
    shown = ", ".join(names[:_REFS_SHOWN])
    more = f" (and {len(names) - _REFS_SHOWN} more)" if len(names) > _REFS_SHOWN else ""
    return f"tags/branches available: {shown}{more}"


def _shallow_fetch(git: GitRunner, source: str, *, unreachable: bool = False) -> None:
    args = ("fetch", "--quiet", "--no-tags", "--depth", "1", "--", git.spec.url, source)
    result = git.run(*args, what="git fetch", check=False)
    if result.returncode != 0:
        # Fetching HEAD is the first contact with the server: a failure means unreachable (or empty).
        problem = f"cannot reach {git.spec.url}" if unreachable else f"git fetch of {source} failed"
        raise GitSourceError(f"{git.spec.spec}: {problem}: {git_error_text(result.stderr)}")


def _fetch_by_sha(git: GitRunner, spec: GitSpec, sha: str, refs: dict[str, str]) -> str:
    # Protocol v2 servers (git >= 2.18 defaults, GitHub) accept any reachable commit in a
    # shallow fetch; v0 servers without uploadpack.allowReachableSHA1InWant refuse non-tips.
    args = ("fetch", "--quiet", "--no-tags", "--depth", "1", "--", spec.url, sha)
    if git.run(*args, what="git fetch", check=False).returncode == 0:
        return _commit_of(git, "FETCH_HEAD")
    return _full_fetch(git, spec, sha, refs)


def _full_fetch(git: GitRunner, spec: GitSpec, sha: str, refs: dict[str, str]) -> str:
    # Branches and tags only: on GitHub, refs/pull/* would let a sha resolve to a fork's commit.
    refspecs = ("+refs/heads/*:refs/remotes/src/heads/*", "+refs/tags/*:refs/remotes/src/tags/*")
    git.run("fetch", "--quiet", "--no-tags", "--", spec.url, *refspecs, what="git fetch (full history)")
    found = git.run(
        "rev-parse", "--verify", "--end-of-options", f"{sha}^{{commit}}", what="git rev-parse", check=False
    )
    commit = found.stdout.strip().lower()
    if found.returncode != 0 or not commit.startswith(sha):
        raise GitSourceError(
            f"{spec.spec}: commit {spec.ref} not found in {spec.url} (searched every branch and tag), "
            f"or the abbreviation is ambiguous; {_available_refs(refs)}"
        )
    return commit


def _commit_of(git: GitRunner, name: str) -> str:
    result = git.run("rev-parse", "--verify", "--end-of-options", f"{name}^{{commit}}", what="git rev-parse")
    return result.stdout.strip().lower()


def _checkout(git: GitRunner, spec: GitSpec, commit: str, max_bytes: int) -> Path:
    """Inspects the tree before writing it, checks it out, drops `.git`, and walks it again."""
    tree = f"{commit}:{spec.subdir}" if spec.subdir else f"{commit}^{{tree}}"
    kind = git.run("cat-file", "-t", "--end-of-options", tree, what="git cat-file", check=False)
    if kind.returncode != 0 or kind.stdout.strip() != "tree":
        raise GitSourceError(f"{spec.spec}: path:{spec.subdir} is not a folder in commit {commit[:12]}")
    listing = git.run("ls-tree", "-r", "-z", "--long", "--end-of-options", tree, what="git ls-tree")
    total = 0
    for entry in listing.stdout.split("\0"):
        if not entry:
            continue
        header, _, name = entry.partition("\t")
        mode, _kind, _sha, size = header.split(maxsplit=3)
        shown = f"{spec.subdir}/{name}" if spec.subdir else name
        if mode == "120000":
            raise GitSourceError(f"{spec.spec}: {shown!r} is a symbolic link; modules ship files only")
        if mode == "160000":
            raise GitSourceError(f"{spec.spec}: {shown!r} is a git submodule; modules ship files only")
        total += int(size)
        if total > max_bytes:
            raise GitSourceError(f"{spec.spec}: the checkout is over {max_bytes:,} bytes")
    pathspec = spec.subdir or "."
    git.run("--literal-pathspecs", "checkout", "--quiet", commit, "--", pathspec, what="git checkout")
    shutil.rmtree(git.into / ".git")
    _check_files_on_disk(git.into, spec, max_bytes)
    return git.into / spec.subdir if spec.subdir else git.into


def _check_files_on_disk(root: Path, spec: GitSpec, max_bytes: int) -> None:
    """The second guard: what is on disk, whatever git did."""
    total = 0
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder, name)
            info = path.lstat()
            shown = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                raise GitSourceError(f"{spec.spec}: {shown!r} is a symbolic link; modules ship files only")
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                raise GitSourceError(f"{spec.spec}: {shown!r} is a device, FIFO or other special file")
            total += info.st_size if stat.S_ISREG(info.st_mode) else 0
    if total > max_bytes:
        raise GitSourceError(f"{spec.spec}: the checkout is {total:,} bytes; at most {max_bytes:,}")


def _empty_folder(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
