"""Git sources: specs parsed strictly, commits fetched with the real `git`, unsafe trees refused.

Every repository is a local bare repository in a temporary folder; `github:` is
mapped onto them with git's own `url.<base>.insteadOf`, the way a user would.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from trafi_host.sources.git import FetchedGit, GitSourceError, GitSpec, fetch_git, parse_git_spec
from trafi_host.sources.git import fetch as git_fetch
from trafi_host.sources.git.runner import GitRunner

# Repositories are built with a fixed identity and no user or system config.
BUILD_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Trafi Test",
    "GIT_AUTHOR_EMAIL": "test@trafi.invalid",
    "GIT_COMMITTER_NAME": "Trafi Test",
    "GIT_COMMITTER_EMAIL": "test@trafi.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env=BUILD_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def manifest(version: str) -> str:
    return f'{{"name": "hello", "version": "{version}"}}\n'


def commit(work: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", message)
    return git(work, "rev-parse", "HEAD")


def publish(work: Path, bare: Path) -> Path:
    git(work.parent, "clone", "--quiet", "--bare", str(work), str(bare))
    return bare


@dataclass(frozen=True)
class Hello:
    bare: Path
    url: str
    c0: str  # reachable from main, tip of nothing
    c1: str  # lightweight tag v1.0.0
    c2: str  # annotated tag v1.1.0
    c3: str  # main, the remote HEAD
    d1: str  # branch dev


@pytest.fixture(scope="module")
def hello(tmp_path_factory: pytest.TempPathFactory) -> Hello:
    root = tmp_path_factory.mktemp("repos")
    work = root / "work"
    work.mkdir()
    git(work, "init", "--quiet")
    c0 = commit(work, {"README.md": "hello\n"}, "start")
    c1 = commit(work, {"trafi-module.json": manifest("1.0.0")}, "1.0.0")
    git(work, "tag", "v1.0.0")
    c2 = commit(work, {"trafi-module.json": manifest("1.1.0")}, "1.1.0")
    git(work, "tag", "-a", "v1.1.0", "-m", "release 1.1.0")
    git(work, "checkout", "--quiet", "-b", "dev", c1)
    d1 = commit(work, {"trafi-module.json": manifest("2.0.0-dev")}, "dev")
    git(work, "checkout", "--quiet", "main")
    c3 = commit(
        work,
        {"trafi-module.json": manifest("1.2.0"), "modules/hello/trafi-module.json": manifest("9.0.0")},
        "1.2.0 and a monorepo folder",
    )
    bare = publish(work, root / "github" / "user" / "hello.git")
    return Hello(bare=bare, url=bare.as_uri(), c0=c0, c1=c1, c2=c2, c3=c3, d1=d1)


@pytest.fixture(autouse=True)
def isolated_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own global git config (empty unless the test writes to it)."""
    config = tmp_path / "gitconfig"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_SSH_COMMAND", raising=False)
    return config


def spec_for(url: str, ref: str | None = None, subdir: str | None = None) -> GitSpec:
    text = f"git+{url}" + (f"#{ref}" if ref else "")
    return GitSpec(url=url, ref=ref, subdir=subdir, spec=text)


def version_in(fetched: FetchedGit) -> str:
    return (fetched.folder / "trafi-module.json").read_text().split('"version": "')[1].split('"')[0]


# --- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "url", "ref", "subdir"),
    [
        ("github:user/repo", "https://github.com/user/repo.git", None, None),
        ("github:user/repo#v1.2.3", "https://github.com/user/repo.git", "v1.2.3", None),
        ("github:my-org/my.repo.git#main", "https://github.com/my-org/my.repo.git", "main", None),
        ("git+https://example.com/x.git#abc1234", "https://example.com/x.git", "abc1234", None),
        ("git+ssh://git@example.com/x.git#release/1.x", "ssh://git@example.com/x.git", "release/1.x", None),
        ("git+file:///abs/x.git", "file:///abs/x.git", None, None),
        ("github:user/repo#v1&path:modules/hello", "https://github.com/user/repo.git", "v1", "modules/hello"),
        ("github:user/repo#path:modules/hello&v1", "https://github.com/user/repo.git", "v1", "modules/hello"),
        (
            "github:user/repo#path:./modules//hello/",
            "https://github.com/user/repo.git",
            None,
            "modules/hello",
        ),
    ],
)
def test_parse_valid(text: str, url: str, ref: str | None, subdir: str | None) -> None:
    assert parse_git_spec(text) == GitSpec(url=url, ref=ref, subdir=subdir, spec=text)


@pytest.mark.parametrize(
    "text",
    ["./modules/hello", "hello", "@scope/pkg", "https://example.com/x.tgz", "hello@1.2.0", "gitlab:u/r"],
)
def test_parse_not_git(text: str) -> None:
    assert parse_git_spec(text) is None


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("github:user", "expected github:<user>/<repo>"),
        ("github:user/", "expected github:<user>/<repo>"),
        ("github:/repo", "expected github:<user>/<repo>"),
        ("github:user/repo/extra", "expected github:<user>/<repo>"),
        ("github:-user/repo", "expected github:<user>/<repo>"),
        ("github:user/..", "not a repository name"),
        ("github:user/repo#", "empty ref"),
        ("github:user/repo#v1&", "empty ref"),
        ("github:user/repo#-x", "starts with '-'"),
        ("github:user/repo#--upload-pack=touch /tmp/x", "starts with '-'"),
        ("github:user/repo#a..b", "not a valid git ref"),
        ("github:user/repo#src:dst", "not a valid git ref"),
        ("github:user/repo#+main", "not a valid git ref"),
        ("github:user/repo#v1 v2", "not a valid git ref"),
        ("github:user/repo#v1&v2", "more than one ref"),
        ("github:user/repo#path:../x", "climbs out"),
        ("github:user/repo#path:a/../../x", "climbs out"),
        ("github:user/repo#path:/etc", "must be a relative folder"),
        ("github:user/repo#path:", "must be a relative folder"),
        ("github:user/repo#path:a&path:b", "more than one path"),
        ("github:user/repo#path:.git/hooks", "not a module folder"),
        ("git+http://example.com/x.git", "unsupported git URL scheme 'http'"),
        ("git+ext::sh -c touch% /tmp/x", "whitespace"),
        ("git+ext::true", "unsupported git URL scheme"),
        ("git+file://relative/x.git", "absolute path"),
        ("git+https://user:token@example.com/x.git", "credentials in the URL"),
        ("git+https:///x.git", "no host"),
        ("git+ssh://-oProxyCommand=touch/x.git", "no host"),
        ("git+https://example.com", "names no repository"),
    ],
)
def test_parse_invalid(text: str, complaint: str) -> None:
    with pytest.raises(GitSourceError) as caught:
        parse_git_spec(text)
    assert complaint in str(caught.value)
    assert text in str(caught.value)
    assert caught.value.exit_code == 13


# --- fetching ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "version", "commit_name"),
    [
        ("v1.0.0", "1.0.0", "c1"),  # lightweight tag
        ("v1.1.0", "1.1.0", "c2"),  # annotated tag: peeled to its commit
        ("refs/tags/v1.1.0", "1.1.0", "c2"),
        ("dev", "2.0.0-dev", "d1"),  # branch
        ("main", "1.2.0", "c3"),
        (None, "1.2.0", "c3"),  # remote HEAD
    ],
)
def test_fetch_by_name(hello: Hello, tmp_path: Path, ref: str | None, version: str, commit_name: str) -> None:
    fetched = fetch_git(spec_for(hello.url, ref), tmp_path / "out")
    expected = getattr(hello, commit_name)
    assert fetched.commit == expected
    assert fetched.resolved == f"{hello.url}#{expected}"
    assert fetched.folder == tmp_path / "out"
    assert version_in(fetched) == version
    assert not (tmp_path / "out" / ".git").exists()


def test_fetch_full_sha_of_a_non_tip_commit_is_shallow(
    hello: Hello, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Protocol v2 (git 2.39's default) serves any reachable commit to a depth-1 fetch."""
    calls = record_git_calls(monkeypatch)
    fetched = fetch_git(spec_for(hello.url, hello.c0), tmp_path / "out")
    assert fetched.commit == hello.c0
    assert (fetched.folder / "README.md").read_text() == "hello\n"
    assert not (fetched.folder / "trafi-module.json").exists()
    fetches = [call for call in calls if call[0] == "fetch"]
    assert len(fetches) == 1 and "--depth" in fetches[0]


def test_fetch_full_sha_falls_back_when_the_server_refuses(
    hello: Hello, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_git_config: Path
) -> None:
    """Protocol v0 without allowReachableSHA1InWant refuses unadvertised commits: full fetch instead."""
    isolated_git_config.write_text("[protocol]\n\tversion = 0\n")
    calls = record_git_calls(monkeypatch)
    fetched = fetch_git(spec_for(hello.url, hello.c0), tmp_path / "out")
    assert fetched.commit == hello.c0
    fetches = [call for call in calls if call[0] == "fetch"]
    assert len(fetches) == 2 and "--depth" in fetches[0] and "--depth" not in fetches[1]


@pytest.mark.parametrize("name", ["c0", "c1", "c2", "d1"])
def test_fetch_abbreviated_sha(hello: Hello, tmp_path: Path, name: str) -> None:
    sha = getattr(hello, name)
    fetched = fetch_git(spec_for(hello.url, sha[:8]), tmp_path / "out")
    assert fetched.commit == sha
    assert fetched.resolved == f"{hello.url}#{sha}"


def test_fetch_abbreviated_sha_of_a_tip_stays_shallow(
    hello: Hello, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_git_calls(monkeypatch)
    fetched = fetch_git(spec_for(hello.url, hello.c3[:7].upper()), tmp_path / "out")
    assert fetched.commit == hello.c3
    assert all("--depth" in call for call in calls if call[0] == "fetch")


def test_github_shorthand_through_insteadof(hello: Hello, tmp_path: Path, isolated_git_config: Path) -> None:
    github = hello.bare.parent.parent.as_uri() + "/"
    isolated_git_config.write_text(f'[url "{github}"]\n\tinsteadOf = https://github.com/\n')
    spec = parse_git_spec("github:user/hello#v1.0.0")
    assert spec is not None and spec.url == "https://github.com/user/hello.git"
    fetched = fetch_git(spec, tmp_path / "out")
    assert fetched.commit == hello.c1
    assert fetched.resolved == f"https://github.com/user/hello.git#{hello.c1}"
    assert version_in(fetched) == "1.0.0"


def test_subdir_selection(hello: Hello, tmp_path: Path) -> None:
    spec = parse_git_spec(f"git+{hello.url}#main&path:modules/hello")
    assert spec is not None
    fetched = fetch_git(spec, tmp_path / "out")
    assert fetched.folder == tmp_path / "out" / "modules" / "hello"
    assert version_in(fetched) == "9.0.0"
    assert fetched.resolved == f"{hello.url}#{hello.c3}&path:modules/hello"
    assert not (tmp_path / "out" / "trafi-module.json").exists()  # only the folder is checked out


def test_subdir_missing(hello: Hello, tmp_path: Path) -> None:
    spec = parse_git_spec(f"git+{hello.url}#v1.0.0&path:modules/hello")
    assert spec is not None
    with pytest.raises(GitSourceError, match=r"path:modules/hello is not a folder in commit"):
        fetch_git(spec, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_ref_lists_what_exists(hello: Hello, tmp_path: Path) -> None:
    with pytest.raises(GitSourceError) as caught:
        fetch_git(spec_for(hello.url, "v9.9.9"), tmp_path / "out")
    message = str(caught.value)
    assert message.startswith(f"git+{hello.url}#v9.9.9: ref v9.9.9 not found in {hello.url}")
    assert "tags/branches available: dev, main, v1.0.0, v1.1.0" in message
    assert not (tmp_path / "out").exists()


def test_missing_commit(hello: Hello, tmp_path: Path) -> None:
    with pytest.raises(GitSourceError, match=r"commit 0000000 not found in .*searched every branch and tag"):
        fetch_git(spec_for(hello.url, "0000000"), tmp_path / "out")


def test_available_refs_are_capped() -> None:
    refs = {f"refs/tags/v{n}": "a" * 40 for n in range(15)}
    assert git_fetch._available_refs(refs).endswith("v9 (and 5 more)")


@pytest.mark.parametrize("ref", [None, "v1.0.0"])
def test_unreachable_repository(tmp_path: Path, ref: str | None) -> None:
    url = (tmp_path / "missing.git").as_uri()
    with pytest.raises(GitSourceError) as caught:
        fetch_git(spec_for(url, ref), tmp_path / "out")
    message = str(caught.value)
    assert f"cannot reach {url}: " in message
    assert "does not appear to be a git repository" in message or "Could not read" in message
    assert not (tmp_path / "out").exists()


def test_ssh_runs_in_batch_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "ssh-args"
    fake_ssh = tmp_path / "fake-ssh"
    fake_ssh.write_text(
        f'#!/bin/sh\necho "$@" > {log}\necho "Permission denied (publickey)." >&2\nexit 255\n'
    )
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake_ssh))
    with pytest.raises(GitSourceError, match=r"cannot reach ssh://git@example\.invalid/x\.git: .*"):
        fetch_git(spec_for("ssh://git@example.invalid/x.git"), tmp_path / "out")
    assert "-o BatchMode=yes" in log.read_text()


def test_timeout_kills_git_and_its_children(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_ssh = tmp_path / "fake-ssh"
    fake_ssh.write_text("#!/bin/sh\nsleep 30\n")  # a child of git's child: killed with the session
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake_ssh))
    started = time.monotonic()
    with pytest.raises(GitSourceError, match=r"timed out during git fetch of ssh://example\.invalid/x\.git"):
        fetch_git(spec_for("ssh://example.invalid/x.git"), tmp_path / "out", timeout=0.5)
    assert time.monotonic() - started < 5
    assert not (tmp_path / "out").exists()


def test_git_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GitSourceError, match=r"git\+file:///x\.git: git is not installed"):
        fetch_git(spec_for("file:///x.git"), tmp_path / "out")


# --- refusing unsafe trees -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def evil(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("evil")
    work = root / "work"
    work.mkdir()
    git(work, "init", "--quiet")
    (work / "lib").mkdir()
    (work / "lib" / "passwd").symlink_to("/etc/passwd")
    commit(work, {"trafi-module.json": manifest("6.6.6")}, "a link out")
    return publish(work, root / "evil.git").as_uri()


def test_symlink_is_refused_and_nothing_is_left(evil: str, tmp_path: Path) -> None:
    with pytest.raises(GitSourceError, match=r"'lib/passwd' is a symbolic link; modules ship files only"):
        fetch_git(spec_for(evil), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_symlink_refused_in_an_existing_folder_which_is_emptied(evil: str, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(GitSourceError, match="symbolic link"):
        fetch_git(spec_for(evil), tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_second_guard_refuses_a_link_on_disk(tmp_path: Path) -> None:
    """Whatever git wrote, the walk after checkout refuses links."""
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(GitSourceError, match=r"'passwd' is a symbolic link"):
        git_fetch._check_files_on_disk(tmp_path / "tree", spec_for("file:///x.git"), 1 << 20)


def test_size_limit(hello: Hello, tmp_path: Path) -> None:
    with pytest.raises(GitSourceError, match=r"the checkout is over 10 bytes"):
        fetch_git(spec_for(hello.url, "v1.0.0"), tmp_path / "out", max_bytes=10)
    assert not (tmp_path / "out").exists()


def test_into_must_be_empty(hello: Hello, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(GitSourceError, match="is not an empty folder"):
        fetch_git(spec_for(hello.url), tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_hooks_never_run(hello: Hello, tmp_path: Path, isolated_git_config: Path) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    marker = tmp_path / "hook-ran"
    for name in ("post-checkout", "reference-transaction"):
        (hooks / name).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (hooks / name).chmod(0o755)
    isolated_git_config.write_text(f"[core]\n\thooksPath = {hooks}\n")
    fetch_git(spec_for(hello.url, "main"), tmp_path / "out")
    assert not marker.exists()


def record_git_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    calls: list[tuple[str, ...]] = []
    original = GitRunner.run

    def spy(self: GitRunner, *args: str, what: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return original(self, *args, what=what, check=check)

    monkeypatch.setattr(GitRunner, "run", spy)
    return calls
