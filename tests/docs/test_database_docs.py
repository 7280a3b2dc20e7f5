"""docs/database.md quotes the reviews example module exactly; tests/host/test_module_database.py runs it."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REVIEWS = REPO / "modules" / "reviews"
DOC = (REPO / "docs" / "database.md").read_text()


def _flat(text: str) -> str:
    # Compared line by line without indentation: the doc quotes code out of its block.
    return "\n".join(line.strip() for line in text.strip().splitlines())


def test_every_python_block_is_the_modules_code() -> None:
    source = _flat((REVIEWS / "app.py").read_text())
    blocks = re.findall(r"```python\n(.*?)```", DOC, re.S)
    assert len(blocks) == 5
    for block in blocks:
        assert _flat(block) in source, block


def test_every_sql_block_is_a_migration_file_of_the_module() -> None:
    files = [p.read_text() for p in sorted((REVIEWS / "migrations").glob("*.up.sql"))]
    blocks = re.findall(r"```sql\n(.*?)```", DOC, re.S)
    assert blocks == files


def test_the_manifest_excerpt_is_the_modules_manifest() -> None:
    (excerpt,) = re.findall(r"```json\n(.*?)```", DOC, re.S)
    manifest = _flat((REVIEWS / "trafi-module.json").read_text())
    assert _flat(excerpt) in manifest
