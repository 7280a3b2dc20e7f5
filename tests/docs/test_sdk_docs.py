"""docs/sdk.md: every public SDK name documented with an example, the file current, its example run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.docs.pytest_example import run_example
from trafi_cli.main import app
from trafi_host import sdk_reference
from trafi_sdk import kv

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "sdk.md"


def test_every_public_name_has_a_docstring_with_an_example() -> None:
    assert sdk_reference.undocumented() == []


def test_the_reference_names_the_names_the_issue_asked_for() -> None:
    text = DOC.read_text()
    for name in ("Request.json", "Request.query_param", "Response.json", "Response.error", "Response.text"):
        assert f"### `{name}(" in text, name
    assert "### `kv.get_json(" in text and "### `class NotFound`" in text
    assert "path_params" in text


def test_an_undocumented_public_name_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def peek(key: str) -> None:
        pass

    monkeypatch.setattr(kv, "peek", peek, raising=False)
    monkeypatch.setattr(kv, "__all__", [*kv.__all__, "peek"])
    assert sdk_reference.undocumented() == ["kv.peek: no docstring"]
    peek.__doc__ = "Reads without counting."
    assert sdk_reference.undocumented() == ["kv.peek: no example (an indented code block in the docstring)"]


def test_the_document_is_current() -> None:
    result = CliRunner().invoke(app, ["docs", "sdk", "--doc", str(DOC), "--check"])
    assert result.exit_code == 0, "docs/sdk.md is stale: run `./bootstrap just docs`"


def test_the_testing_example_runs(tmp_path: Path) -> None:
    section = DOC.read_text().split("## Testing", 1)[1].split("\n## ", 1)[0]
    (example,) = re.findall(r"```python\n(.*?)```", section, re.S)
    test_file = tmp_path / "test_sdk_example.py"
    test_file.write_text(example.replace('Path("modules/hello")', f'Path("{REPO / "modules" / "hello"}")'))
    assert "2 passed" in run_example(test_file)


def test_the_typed_routes_example_runs(tmp_path: Path) -> None:
    section = DOC.read_text().split("## Typed routes and views", 1)[1].split("\n## ", 1)[0]
    (example,) = re.findall(r"```python\n(.*?)```", section, re.S)
    script = tmp_path / "typed_example.py"
    script.write_text(example)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "sdk-py")},
    )
    assert done.returncode == 0, done.stderr
