"""What every command shares: the project folder, output mode, and error reporting.

Imports of the host (and pydantic) stay inside the functions: every `trafi`
command imports this module, and `trafi version` or `--help` must not pay for
the host (seconds of CPU) — tests/cli/test_start_time.py holds that line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from pydantic import BaseModel

    from trafi_host.project import Project
    from trafi_host.recovery import Recovery
    from trafi_host.settings import HostSettings

console = Console()
err_console = Console(stderr=True)

ProjectOption = typer.Option(
    None,
    "--project",
    "-C",
    help="Project folder (default: $TRAFI_PROJECT or the current folder).",
    show_default=False,
)

T = TypeVar("T")


def open_project(option: Path | None, settings: HostSettings | None = None) -> Project:
    """The command's project: `-C`, else `TRAFI_PROJECT`, else the current folder.

    An operation a killed command left half done is finished first, unless another command
    is running (`recovery`). `settings`: the environment's, when the command has read them
    already (they are read once).
    """
    from trafi_host.project import Project
    from trafi_host.recovery import recover_if_idle
    from trafi_host.settings import HostSettings

    settings = settings or HostSettings.from_environment()
    project = Project.open(option or settings.project or Path("."), settings)
    recover_if_idle(project)
    return project


def wait_notice(message: str) -> None:
    """Told when the project lock is held by another command (its pid) and this one waits."""
    err_console.print(f"[yellow]{message}[/]", highlight=False, soft_wrap=True)


def exclusive(project: Project, tidy: bool = True) -> AbstractContextManager[Recovery]:
    """The project lock for a command that changes the project (see `trafi_host.recovery`);
    `tidy`: prune the artifact cache and sweep debris when it is done."""
    from trafi_host import recovery

    return recovery.exclusive(project, wait_notice, tidy=tidy)


def emit_json(data: BaseModel | list[Any] | dict[str, Any]) -> None:
    from pydantic import BaseModel

    if isinstance(data, BaseModel):
        sys.stdout.write(data.model_dump_json(by_alias=True, indent=2) + "\n")
    else:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@contextmanager
def reported_errors(as_json: bool = False) -> Iterator[None]:
    """Print a TrafiError as a clear message (or JSON) and exit with its code."""
    from trafi_host.errors import ManifestError, TrafiError

    try:
        yield
    except TrafiError as error:
        if as_json:
            payload: dict[str, Any] = {"error": str(error), "kind": type(error).__name__}
            if isinstance(error, ManifestError):
                payload["issues"] = [issue.__dict__ for issue in error.issues]
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        else:
            err_console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(error.exit_code) from None


def run(as_json: bool, action: Callable[[], T]) -> T:
    with reported_errors(as_json):
        return action()
