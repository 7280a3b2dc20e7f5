"""The guest's error text read into file, line and excerpt."""

from __future__ import annotations

from pathlib import Path

from trafi_host.dev.source_problem import excerpt, problem_from_guest


def test_the_failing_line_is_marked_in_the_excerpt(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text("a = 1\nb = 2\nc = (\nd = 4\ne = 5\nf = 6\n")
    assert excerpt(source, 3) == "  1 | a = 1\n  2 | b = 2\n> 3 | c = (\n  4 | d = 4\n  5 | e = 5"
    assert excerpt(source, 99) is None
    assert excerpt(tmp_path / "gone.py", 1) is None


def test_the_guests_error_becomes_a_problem_naming_the_authors_file(tmp_path: Path) -> None:
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "app.py").write_text("import json\nx = json.loads('{')\n")
    error = (
        "module counter: init failed for tenant __install_check__: "
        "JSONDecodeError: Expecting property name at app.py:2\nTraceback ..."
    )
    problem = problem_from_guest("counter", error, staged, Path("/home/me/counter"))
    assert problem.kind == "runtime" and problem.line == 2
    assert problem.file == "/home/me/counter/app.py"
    assert problem.message == "JSONDecodeError: Expecting property name"
    assert problem.excerpt is not None and problem.excerpt.splitlines()[-1].startswith("> 2 |")
    assert problem.detail == "Traceback ..."


def test_an_error_without_a_place_is_kept_whole(tmp_path: Path) -> None:
    problem = problem_from_guest("counter", "module counter: init trapped (memory)", tmp_path, tmp_path)
    assert problem.file is None and problem.message == "module counter: init trapped (memory)"


def test_an_sdk_frame_gets_no_excerpt(tmp_path: Path) -> None:
    problem = problem_from_guest("counter", "KeyError: 'x' at sdk:trafi_sdk/kv.py:12", tmp_path, tmp_path)
    assert problem.file == "sdk:trafi_sdk/kv.py" and problem.excerpt is None
