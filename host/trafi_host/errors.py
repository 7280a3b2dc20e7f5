"""One error hierarchy: every message names the module, the phase, what was expected and found."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """What `trafi` exits with: the one table; docs/cli.md's is generated from it."""

    meaning: str

    def __new__(cls, code: int, meaning: str) -> ExitCode:
        member = int.__new__(cls, code)
        member._value_ = code
        member.meaning = meaning
        return member

    OK = 0, "done"
    OTHER = 1, "other error (the message says what and where)"
    PROJECT = 2, "the project folder or `trafi.config.json` is missing or broken"
    MANIFEST = 3, "invalid manifest (every problem listed, with its JSON path)"
    INCOMPATIBLE = 4, "the module's `trafi` range does not admit this host"
    UNKNOWN_MODULE = 5, "no installed module of that name"
    COMPONENT = 6, "the component is missing or not a component for this host"
    BUILD = 7, "the build failed (the module's own file and line)"
    MODULE_START = 8, "the module failed to start (`init` raised or trapped)"
    AUTH = 9, "authentication (bad or revoked API key)"
    VALIDATION_BLOCKED = 10, "security validation blocks the module"
    UNSAFE_ARCHIVE = 11, "an archive is unsafe (traversal, links, devices, bomb)"
    PERMISSION_ESCALATION = 12, "an update asks for permissions not granted: review, then `--grant`"
    GIT_SOURCE = 13, "a git source cannot be fetched (unreachable, unknown ref, unsafe tree)"
    NPM_SOURCE = 14, "an npm source cannot be fetched (unknown, no matching version, integrity, auth)"
    DEPENDENCY = 15, "a dependency cycle or conflict (the whole path is spelled out)"
    CANNOT_LISTEN = 16, "`serve` or `dev` cannot listen on its port (in use by another process, or refused)"
    SETTINGS = 17, "a `TRAFI_*` environment variable has a bad value (see [settings](settings.md))"
    MIGRATION = 18, "a module's database migration failed or was refused; its tables are as they were"
    PROJECT_BUSY = 19, "another command kept the project locked past `TRAFI_PROJECT_LOCK_TIMEOUT`"
    UPDATE_REFUSED = (
        20,
        "an update or removal is refused (a downgrade without `--to`, a dependent, not confirmed)",
    )


class TrafiError(Exception):
    """Base of every error the host raises on purpose. `exit_code` is what the CLI returns."""

    exit_code: ExitCode = ExitCode.OTHER


class ProjectError(TrafiError):
    """The project folder or its `trafi.config.json` is missing or broken."""

    exit_code = ExitCode.PROJECT


@dataclass(frozen=True)
class ManifestIssue:
    """One problem in a manifest: where (JSON path), what was expected, what was found."""

    path: str
    message: str
    found: str | None = None
    hint: str | None = None

    def render(self) -> str:
        text = f"{self.path}: {self.message}"
        if self.found is not None:
            text += f" (found {self.found})"
        if self.hint:
            text += f"; {self.hint}"
        return text


class ManifestError(TrafiError):
    """A `trafi-module.json` that cannot be used; lists every problem, not the first."""

    exit_code = ExitCode.MANIFEST

    def __init__(self, source: str, issues: list[ManifestIssue]) -> None:
        self.source = source
        self.issues = issues
        lines = "\n".join(f"  - {issue.render()}" for issue in issues)
        super().__init__(f"invalid manifest {source}: {len(issues)} problem(s)\n{lines}")


class CompatibilityError(TrafiError):
    """The module's `trafi` range does not admit this host's version."""

    exit_code = ExitCode.INCOMPATIBLE


class UnknownModuleError(TrafiError):
    """No installed module has that name."""

    exit_code = ExitCode.UNKNOWN_MODULE


class ComponentError(TrafiError):
    """The component file is missing, unreadable, or does not target the world."""

    exit_code = ExitCode.COMPONENT


class BuildError(TrafiError):
    """componentize-py failed; the message carries the module's Python error, file and line."""

    exit_code = ExitCode.BUILD


class ModuleStartError(TrafiError):
    """The module's `init` failed or trapped."""

    exit_code = ExitCode.MODULE_START


class UsageError(TrafiError):
    """A command was given contradicting options, or lacks a choice it cannot make alone."""


class MigrationError(TrafiError):
    """A module's migration could not run; its tables and migration state are as they were."""

    exit_code = ExitCode.MIGRATION


class AuthError(TrafiError):
    """A missing, unknown or revoked API key."""

    exit_code = ExitCode.AUTH


class ProjectBusyError(TrafiError):
    """Another command held the project lock for longer than the timeout."""

    exit_code = ExitCode.PROJECT_BUSY


class UpdateRefused(TrafiError):
    """An update, rollback or removal that would break the store, or that was not confirmed."""

    exit_code = ExitCode.UPDATE_REFUSED
