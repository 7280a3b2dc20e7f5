"""Progress shows on a terminal only: never with --json, never in a pipe."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from trafi_cli import progress


def test_a_terminal_sees_each_step(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(progress, "err_console", Console(file=out, force_terminal=True, width=100))
    with progress.progress_reporter(quiet=False) as report:
        report("downloading points@^1.0.0 from http://127.0.0.1:4873/")
        report("compiling points")
    assert "downloading points@^1.0.0" in out.getvalue()
    assert "compiling points" in out.getvalue()


@pytest.mark.parametrize(("quiet", "terminal"), [(True, True), (False, False)])
def test_json_and_pipes_stay_quiet(monkeypatch: pytest.MonkeyPatch, quiet: bool, terminal: bool) -> None:
    out = io.StringIO()
    monkeypatch.setattr(progress, "err_console", Console(file=out, force_terminal=terminal))
    with progress.progress_reporter(quiet=quiet) as report:
        report("downloading points")
    assert out.getvalue() == ""
