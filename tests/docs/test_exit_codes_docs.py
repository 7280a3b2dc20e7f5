"""docs/cli.md's exit-code table is generated from `ExitCode`."""

from __future__ import annotations

from pathlib import Path

from trafi_host.errors import ExitCode
from trafi_host.reference_tables import with_exit_codes

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_exit_code_table_is_current() -> None:
    text = DOC.read_text()
    assert with_exit_codes(text) == text, "run `./bootstrap just docs` to regenerate docs/cli.md"


def test_every_exit_code_is_in_the_document() -> None:
    text = DOC.read_text()
    for code in ExitCode:
        assert f"| {code.value} | {code.meaning} |" in text
