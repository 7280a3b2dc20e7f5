"""Running the system `git` client for one fetch: non-interactive, hook-free, and killable.

Git keeps the user's own config, because credential helpers and
`url.<base>.insteadOf` rewrites (mirrors, tests) must keep working, but never
prompts, never runs hooks, and never looks at another repository through the
environment. The whole fetch shares one deadline; a git that overruns it is
killed with its whole session, so ssh and upload-pack children die with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .spec import GitSourceError, GitSpec


class GitRunner:
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
            "-c", "core.symlinks=false",  # links are refused before checkout; a stray one stays a plain file
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
            _kill_session(process)
            raise GitSourceError(f"{self.spec.spec}: timed out during {what} of {self.spec.url}") from None
        except BaseException:
            _kill_session(process)
            raise
        result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        if check and result.returncode != 0:
            raise GitSourceError(f"{self.spec.spec}: {what} failed: {git_error_text(stderr)}")
        return result

    def use_batch_mode_ssh(self) -> None:
        """Make ssh fail rather than ask for a password or a host key; call it after `git init`."""
        if "GIT_SSH_COMMAND" not in self.env:
            # The variable overrides core.sshCommand: keep the user's command and only add BatchMode.
            # Asked inside the fresh repository, so no surrounding project's config is read.
            configured = self.run("config", "--get", "core.sshCommand", what="git config", check=False)
            self.env["GIT_SSH_COMMAND"] = configured.stdout.strip() or "ssh"
        self.env["GIT_SSH_COMMAND"] += " -o BatchMode=yes"


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


def _kill_session(process: subprocess.Popen[str]) -> None:
    if sys.platform == "win32":
        process.kill()
    else:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.communicate()


def git_error_text(stderr: str) -> str:
    """Git's own explanation, without progress, hints or the stock "Please make sure..." paragraph."""
    paragraph = stderr.strip().split("\n\n")[0]
    lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("hint:", "warning:"))] or lines
    return "; ".join(lines[-3:]) if lines else "(git printed nothing)"
