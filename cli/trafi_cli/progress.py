"""Progress of long steps (downloads, builds, compiles): a live status line on a terminal, else nothing.

Quiet with `--json` (stdout is for the document) and when stderr is not a
terminal (CI logs, pipes), so output stays parseable and logs stay clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .context import err_console


@contextmanager
def progress_reporter(quiet: bool) -> Iterator[Callable[[str], None]]:
    if quiet or not err_console.is_terminal:
        yield lambda _message: None
        return
    with err_console.status("starting") as status:

        def report(message: str) -> None:
            status.update(f"{message}…")
            err_console.log(message, highlight=False)

        yield report
