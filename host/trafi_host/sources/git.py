"""Fetching a module from a git repository with the system `git` client.

Only the wanted commit is fetched (`--depth 1`) when the server allows it, into
a fresh repository inside `into`; the tree is inspected before checkout (no
links, no submodules, a size limit), checked out, `.git` is removed, and the
result is walked again as a second guard. Git runs non-interactively and with
no hooks, but with the user's own config: credential helpers and
`url.<base>.insteadOf` rewrites (mirrors, tests) must keep working.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from ..errors import ExitCode, TrafiError


class GitSourceError(TrafiError):
    """A git source that cannot be parsed, reached, resolved or safely checked out."""

    exit_code = ExitCode.GIT_SOURCE


@dataclass(frozen=True)
class GitSpec:
    url: str  # what git is given (before the user's insteadOf rewrites)
    ref: str | None  # tag, branch or commit sha (full or >= 7 hex); None = the remote HEAD
    subdir: str | None  # module folder inside the repository (monorepos)
    spec: str  # what the user typed, for messages


@dataclass(frozen=True)
class FetchedGit:
    folder: Path  # the checked-out module folder (subdir applied)
    commit: str  # full resolved commit id
    resolved: str  # "<url>#<commit>[&path:<subdir>]": what a reproducible install records


_GITHUB = re.compile(r"github:(?P<user>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)/(?P<repo>[A-Za-z0-9._-]+)")
_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")  # SHA-1 and SHA-256 repositories
_SHORT_SHA = re.compile(r"[0-9a-fA-F]{7,63}")
# What `git check-ref-format` forbids, plus ":" and "+" that would turn a ref into a refspec.
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\+]|\.\.|@\{|//")
_SCHEMES = ("https", "ssh", "file")
_REFS_SHOWN = 10


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
    runner = _Git(git, spec, into, time.monotonic() + timeout)
    try:
        commit = _fetch(runner, spec)
        folder = _checkout(runner, spec, commit, max_bytes)
    except BaseException:
        if created:
            shutil.rmtree(into, ignore_errors=True)
        else:
            _empty(into)
        raise
    resolved = f"{spec.url}#{commit}" + (f"&path:{spec.subdir}" if spec.subdir else "")
    return FetchedGit(folder=folder, commit=commit, resolved=resolved)


class _Git:
    """Runs git in `into` with one deadline for the whole fetch."""

    def __init__(self, git: str, spec: GitSpec, into: Path, deadline: float) -> None:
        self.git = git
        self.spec = spec
        self.into = into
        self.deadline = deadline
        self.env = _environment()
        self.options = [
            "-c", "core.hooksPath=/dev/null",  # hooks from a template or config never run
            "-c", "core.fsmonitor=false",
            "-c", "core.symlinks=false",  # links are refused below; if one slips by it is a plain file
            "-c", "gc.auto=0",  # no background gc/maintenance recreating `.git` after we delete it
            "-c", "maintenance.auto=false",
            "-c", "submodule.recurse=false",
            "-c", "fetch.recurseSubmodules=false",
            "-c", "advice.detachedHead=false",
            "-c", "init.defaultBranch=trafi",
        ]  # fmt: skip
        if spec.url.startswith("file://"):
            self.options += ["-c", "protocol.file.allow=always"]

    def run(self, *args: str, what: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise GitSourceError(f"{self.spec.spec}: timed out before {what}")
        try:
            # A session of its own: on timeout, ssh/upload-pack children die with git.
            process = subprocess.Popen(
                [self.git, *self.options, *args],
                cwd=self.into,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,
            )
        except FileNotFoundError:
            raise GitSourceError(
                f"{self.spec.spec}: git is not installed; it is needed for git sources"
            ) from None
        try:
            stdout, stderr = process.communicate(timeout=remaining)
        except subprocess.TimeoutExpired:
            _kill(process)
            raise GitSourceError(f"{self.spec.spec}: timed out during {what} of {self.spec.url}") from None
        except BaseException:
            _kill(process)
            raise
        result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        if check and result.returncode != 0:
            raise GitSourceError(f"{self.spec.spec}: {what} failed: {_git_says(stderr)}")
        return result


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    # Variables that would point git at another repository, index or object store.
    for name in (
        "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_SHALLOW_FILE", "GIT_GRAFT_FILE",
        "GIT_PREFIX", "GIT_IMPLICIT_WORK_TREE", "GIT_ASKPASS", "SSH_ASKPASS",
    ):  # fmt: skip
        env.pop(name, None)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GCM_INTERACTIVE"] = "never"  # Git Credential Manager: fail rather than open a dialog
    return env


def _kill(process: subprocess.Popen[str]) -> None:
    if sys.platform == "win32":
        process.kill()
    else:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.communicate()


def _git_says(stderr: str) -> str:
    """Git's own explanation, without progress, hints or the stock "Please make sure..." paragraph."""
    paragraph = stderr.strip().split("\n\n")[0]
    lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("hint:", "warning:"))] or lines
    return "; ".join(lines[-3:]) if lines else "(git printed nothing)"


def _fetch(git: _Git, spec: GitSpec) -> str:
    """Fetches the commit `spec` names into the fresh repository; returns its full id."""
    git.run("init", "--quiet", "--template=", ".", what="git init")
    if "GIT_SSH_COMMAND" not in git.env:
        # The variable overrides core.sshCommand: keep the user's command and only add BatchMode.
        # Asked inside the fresh repository, so no surrounding project's config is read.
        configured = git.run("config", "--get", "core.sshCommand", what="git config", check=False)
        git.env["GIT_SSH_COMMAND"] = configured.stdout.strip() or "ssh"
    git.env["GIT_SSH_COMMAND"] += " -o BatchMode=yes"
    ref = spec.ref
    if ref is None or ref == "HEAD":
        _shallow(git, "HEAD", unreachable=True)
        return _rev_parse(git, "FETCH_HEAD")
    listing = git.run("ls-remote", "--heads", "--tags", "--", spec.url, what="git ls-remote", check=False)
    if listing.returncode != 0:
        raise GitSourceError(f"{spec.spec}: cannot reach {spec.url}: {_git_says(listing.stderr)}")
    refs = _parse_listing(listing.stdout)
    candidates = [ref] if ref.startswith("refs/") else [f"refs/tags/{ref}", f"refs/heads/{ref}"]
    for name in candidates:
        if name in refs:
            _shallow(git, name)
            return _rev_parse(git, "FETCH_HEAD")
    if _FULL_SHA.fullmatch(ref):
        return _by_sha(git, spec, ref.lower(), refs)
    if _SHORT_SHA.fullmatch(ref):
        tips = {sha for sha in refs.values() if sha.startswith(ref.lower())}
        if len(tips) == 1:  # the tip of a branch or tag: no need for the whole history
            return _by_sha(git, spec, tips.pop(), refs)
        return _full_fetch(git, spec, ref.lower(), refs)
    raise GitSourceError(f"{spec.spec}: ref {ref} not found in {spec.url}; {_available(refs)}")


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


def _available(refs: dict[str, str]) -> str:
    names = [name.removeprefix("refs/heads/") for name in refs if name.startswith("refs/heads/")]
    names += [name.removeprefix("refs/tags/") for name in refs if name.startswith("refs/tags/")]
    if not names:
        return "the repository has no tags or branches"
    shown = ", ".join(names[:_REFS_SHOWN])
    more = f" (and {len(names) - _REFS_SHOWN} more)" if len(names) > _REFS_SHOWN else ""
    return f"tags/branches available: {shown}{more}"


def _shallow(git: _Git, source: str, *, unreachable: bool = False) -> None:
    args = ("fetch", "--quiet", "--no-tags", "--depth", "1", "--", git.spec.url, source)
    result = git.run(*args, what="git fetch", check=False)
    if result.returncode != 0:
        # Fetching HEAD is the first contact with the server: a failure means unreachable (or empty).
        problem = f"cannot reach {git.spec.url}" if unreachable else f"git fetch of {source} failed"
        raise GitSourceError(f"{git.spec.spec}: {problem}: {_git_says(result.stderr)}")


def _by_sha(git: _Git, spec: GitSpec, sha: str, refs: dict[str, str]) -> str:
    # Protocol v2 servers (git >= 2.18 defaults, GitHub) accept any reachable commit in a
    # shallow fetch; v0 servers without uploadpack.allowReachableSHA1InWant refuse non-tips.
    args = ("fetch", "--quiet", "--no-tags", "--depth", "1", "--", spec.url, sha)
    if git.run(*args, what="git fetch", check=False).returncode == 0:
        return _rev_parse(git, "FETCH_HEAD")
    return _full_fetch(git, spec, sha, refs)


def _full_fetch(git: _Git, spec: GitSpec, sha: str, refs: dict[str, str]) -> str:
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
            f"or the abbreviation is ambiguous; {_available(refs)}"
        )
    return commit


def _rev_parse(git: _Git, name: str) -> str:
    result = git.run("rev-parse", "--verify", "--end-of-options", f"{name}^{{commit}}", what="git rev-parse")
    return result.stdout.strip().lower()


def _checkout(git: _Git, spec: GitSpec, commit: str, max_bytes: int) -> Path:
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
    _walk(git.into, spec, max_bytes)
    return git.into / spec.subdir if spec.subdir else git.into


def _walk(root: Path, spec: GitSpec, max_bytes: int) -> None:
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


def _empty(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
