"""What `trafi module add` says about its SOURCE: `[#ref]` shown, and a bare name read as an npm package."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trafi_cli.main import app
from trafi_host.project import Project
from trafi_host.sources.fetch import folder_read_as_package

REPO = Path(__file__).resolve().parents[2]


def test_the_ref_suffix_is_shown_in_help_and_reference() -> None:
    result = CliRunner().invoke(app, ["module", "add", "--help"], env={"COLUMNS": "250"})
    assert "github:user/repo[#ref]" in result.output
    assert "file://…[#ref]" in result.output
    assert "github:user/repo[#ref]" in (REPO / "docs" / "cli-reference.md").read_text()


def test_a_bare_name_with_a_module_folder_beside_it_is_named(tmp_path: Path) -> None:
    (tmp_path / "greeter").mkdir()
    (tmp_path / "greeter" / "trafi-module.json").write_text("{}")
    (tmp_path / "notes").mkdir()
    assert folder_read_as_package("greeter", tmp_path) == tmp_path / "greeter"
    assert folder_read_as_package("./greeter", tmp_path) is None  # a path: it is the folder
    assert folder_read_as_package("notes", tmp_path) is None  # not a module folder
    assert folder_read_as_package("other", tmp_path) is None


def test_module_add_says_the_folder_is_not_used(
    tmp_path: Path, sqlite_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "greeter").mkdir()
    (tmp_path / "greeter" / "trafi-module.json").write_text(json.dumps({"name": "greeter"}))
    # A registry nobody listens on: the npm fetch fails at once, after the note.
    (sqlite_project.root / ".npmrc").write_text("registry=http://127.0.0.1:9/\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["module", "add", "greeter", "-C", str(sqlite_project.root)])
    said = " ".join(result.output.split())
    assert result.exit_code != 0
    assert "'greeter' is an npm package name (as in npm)" in said
    assert "to install it, write ./greeter" in said
    assert os.path.isdir(tmp_path / "greeter")
