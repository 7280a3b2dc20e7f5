"""docs/events.md, "Acting once": the migration and the code it quotes are the points module's own,
and its harness test runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from tests.docs.pytest_example import run_example

REPO = Path(__file__).resolve().parents[2]
POINTS = REPO / "modules" / "points"


def section() -> str:
    text = (REPO / "docs" / "events.md").read_text()
    return text.split("\n## Acting once", 1)[1].split("\n## ", 1)[0]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), re.S)


def test_the_migration_shown_is_the_one_points_ships() -> None:
    assert blocks("sql") == [(POINTS / "migrations" / "0001_ledger.up.sql").read_text()]


def test_the_add_shown_is_the_ledgers_own_code() -> None:
    quoted, _test = blocks("python")
    assert quoted in (POINTS / "ledger.py").read_text()


def test_the_harness_example_runs(tmp_path: Path) -> None:
    _quoted, example = blocks("python")
    test_file = tmp_path / "test_acting_once_example.py"
    test_file.write_text(example.replace('Path("modules")', f'Path("{REPO / "modules"}")'))
    assert "1 passed" in run_example(test_file)
