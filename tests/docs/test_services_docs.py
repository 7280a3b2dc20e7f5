"""docs/services.md quotes the example modules exactly; tests/host/test_services.py runs them."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_quoted_code_is_the_example_modules_code() -> None:
    doc = (REPO / "docs" / "services.md").read_text()
    sources = (REPO / "modules" / "points" / "app.py").read_text() + (
        REPO / "modules" / "loyalty" / "app.py"
    ).read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert len(blocks) == 2
    flat_sources = "\n".join(line.strip() for line in sources.splitlines())
    for block in blocks:
        # Compared line by line without indentation: the doc quotes code out of its block.
        assert "\n".join(line.strip() for line in block.strip().splitlines()) in flat_sources
    assert (
        '"dependencies": {"points": "^1.0.0"}'
        in (REPO / "modules" / "loyalty" / "trafi-module.json").read_text()
    )
