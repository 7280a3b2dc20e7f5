"""`trafi module build`: a module's Python error is reported with its file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from trafi_host.build import build_module, explain_failure
from trafi_host.errors import BuildError


def module_with(tmp_path: Path, hello_dir: Path, source: str) -> Path:
    folder = tmp_path / "broken"
    folder.mkdir()
    manifest = json.loads((hello_dir / "trafi-module.json").read_text())
    manifest["name"] = "broken"
    manifest["entry"]["backend"] = "dist/broken.wasm"
    (folder / "trafi-module.json").write_text(json.dumps(manifest))
    (folder / "app.py").write_text(source)
    return folder


@pytest.mark.slow
def test_import_time_error_names_the_module_file_and_line(tmp_path: Path, hello_dir: Path) -> None:
    folder = module_with(
        tmp_path, hello_dir, 'from trafi_sdk import Module\n\nmodule = Module("broken")\nprices = {}["eur"]\n'
    )
    with pytest.raises(BuildError) as caught:
        build_module(folder)
    message = str(caught.value)
    assert f"KeyError: 'eur' at {folder.resolve()}/app.py:4" in message
    assert "Stack backtrace" not in message and "anyhow" not in message
    assert not (folder / "dist" / "broken.wasm").exists()


def test_missing_entry_module_is_reported_before_building(tmp_path: Path, hello_dir: Path) -> None:
    folder = module_with(tmp_path, hello_dir, "")
    (folder / "app.py").unlink()
    with pytest.raises(BuildError, match=r"build.pythonModule 'app' not found"):
        build_module(folder)


def test_syntax_error_output_is_mapped_to_real_paths() -> None:
    raw = (
        "AssertionError: Traceback (most recent call last):\n"
        '  File "/0/trafi_component_entry.py", line 3, in <module>\n'
        '  File "/1/app.py", line 4\n'
        "    def f(:\n"
        "SyntaxError: invalid syntax\n\n"
        "Caused by:\n    SyntaxError\n\nStack backtrace:\n   0: anyhow"
    )
    text = explain_failure(raw, [Path("/stage"), Path("/src/mod"), Path("/sdk")])
    assert text.startswith("SyntaxError: invalid syntax at /src/mod/app.py:4")
    assert "anyhow" not in text


def test_scaffolded_module_refuses_a_bad_name(tmp_path: Path) -> None:
    from trafi_host.errors import TrafiError
    from trafi_host.scaffold import scaffold_module

    with pytest.raises(TrafiError, match="kebab-case"):
        scaffold_module("Bad_Name", tmp_path / "x")
    shutil.rmtree(tmp_path / "x", ignore_errors=True)


def test_a_syntax_error_is_reported_with_file_and_line_before_componentize(
    tmp_path: Path, hello_dir: Path
) -> None:
    folder = module_with(tmp_path, hello_dir, "from trafi_sdk import Module\n\nmodule = Module('broken')\n")
    (folder / "handlers").mkdir()
    (folder / "handlers" / "orders.py").write_text("def total(:\n    return 1\n")
    (folder / "handlers" / "tabs.py").write_text("if True:\n\tx = 1\n        y = 2\n")
    steps: list[str] = []
    with pytest.raises(BuildError) as caught:
        build_module(folder, progress=steps.append)
    message = str(caught.value)
    # Every broken file, each with its line: no componentize-py run (it takes seconds to minutes).
    assert f"SyntaxError: invalid syntax at {folder.resolve()}/handlers/orders.py:1" in message
    assert f"{folder.resolve()}/handlers/tabs.py:3" in message
    assert "def total(:" in message
    assert not any(step.startswith("componentizing") for step in steps)
    assert steps and steps[0].startswith("checking the syntax")


def test_files_outside_the_build_are_not_checked(tmp_path: Path) -> None:
    from trafi_host.build_checks import check_syntax

    (tmp_path / "app.py").write_text("x = 1\n")
    for skipped in ("dist", ".venv", "__pycache__"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "broken.py").write_text("def (:\n")
    assert check_syntax("m", tmp_path) == 1
