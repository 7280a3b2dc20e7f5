"""docs/security.md lists every rule, generated from the code."""

from __future__ import annotations

from pathlib import Path

from trafi_host.validation.rules import RULES
from trafi_host.validation.rules_doc import with_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_rule_table_is_current() -> None:
    text = DOC.read_text()
    assert with_rules(text) == text, "run `./bootstrap just docs`"


def test_every_rule_is_in_the_document() -> None:
    text = DOC.read_text()
    for rule_id in RULES:
        assert f"`{rule_id}`" in text


def test_the_report_example_is_what_validate_prints(hello_dir: Path, tmp_path: Path) -> None:
    import re

    from typer.testing import CliRunner

    from tests.host.validation.test_validate_command import evil_copy
    from trafi_cli.main import app

    folder = evil_copy(hello_dir, tmp_path)
    result = CliRunner().invoke(app, ["module", "validate", str(folder)], env={"COLUMNS": "200"})
    printed = [" ".join(line.split()) for line in result.output.splitlines()]
    example = re.search(r"## Reading a report\n.*?```text\n(.*?)```", DOC.read_text(), re.S)
    assert example is not None
    for line in example.group(1).splitlines():
        line = " ".join(line.split())
        if line and "..." not in line:
            assert line in printed, f"doc line not printed: {line!r}\n{result.output}"
