"""docs/cli-reference.md is generated from the CLI itself and must match it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli-reference.md"


def test_cli_reference_is_current(tmp_path: Path) -> None:
    out = tmp_path / "cli.md"
    typer_bin = Path(sys.executable).parent / "typer"
    subprocess.run(
        [
            str(typer_bin),
            "trafi_cli.main",
            "utils",
            "docs",
            "--name",
            "trafi",
            "--title",
            "CLI options reference (generated: ./bootstrap just docs)",
            "--output",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    assert out.read_text() == DOC.read_text(), (
        "run `./bootstrap just docs` to regenerate docs/cli-reference.md"
    )


def test_every_command_has_a_section() -> None:
    text = DOC.read_text()
    for command in [
        "init",
        "serve",
        "dev",
        "module new",
        "module build",
        "module add",
        "module list",
        "module enable",
        "module disable",
        "module remove",
        "tenant create",
        "apikey create",
    ]:
        assert f"## `trafi {command}`" in text, command
