"""One error hierarchy: every message names the module, the phase, what was expected and found."""

from __future__ import annotations

from dataclasses import dataclass


class TrafiError(Exception):
    """Base of every error the host raises on purpose. `exit_code` is what the CLI returns."""

    exit_code = 1


class ProjectError(TrafiError):
    """The project folder or its `trafi.config.json` is missing or broken."""

    exit_code = 2


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

    exit_code = 3

    def __init__(self, source: str, issues: list[ManifestIssue]) -> None:
        self.source = source
        self.issues = issues
        lines = "\n".join(f"  - {issue.render()}" for issue in issues)
        super().__init__(f"invalid manifest {source}: {len(issues)} problem(s)\n{lines}")


class CompatibilityError(TrafiError):
    """The module's `trafi` range does not admit this host's version."""

    exit_code = 4


class UnknownModuleError(TrafiError):
    """No installed module has that name."""

    exit_code = 5


class ComponentError(TrafiError):
    """The component file is missing, unreadable, or does not target the world."""

    exit_code = 6


class BuildError(TrafiError):
    """componentize-py failed; the message carries the module's Python error, file and line."""

    exit_code = 7


class ModuleStartError(TrafiError):
    """The module's `init` failed or trapped."""

    exit_code = 8


class AuthError(TrafiError):
    """A missing, unknown or revoked API key."""

    exit_code = 9
