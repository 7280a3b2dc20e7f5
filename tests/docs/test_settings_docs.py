"""docs/settings.md lists every `TRAFI_*` variable the host reads, generated from `HostSettings`."""

from __future__ import annotations

import re
from pathlib import Path

from trafi_host.reference_tables import with_settings
from trafi_host.settings import HostSettings, variable_name

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "settings.md"


def test_settings_table_is_current() -> None:
    text = DOC.read_text()
    assert with_settings(text) == text, "run `./bootstrap just docs` to regenerate docs/settings.md"


def test_every_setting_is_a_row_of_the_table() -> None:
    rows = re.findall(r"^\| `(TRAFI_[A-Z_]+)` \|", DOC.read_text(), re.M)
    assert rows == [variable_name(name) for name in HostSettings.model_fields]


def test_every_variable_the_code_names_is_documented() -> None:
    """A `TRAFI_*` name in the host or the CLI is a setting (or one of the few described below it)."""
    text = DOC.read_text()
    named = {
        (match, path.relative_to(REPO))
        for folder in ("host", "cli")
        for path in (REPO / folder).rglob("*.py")
        for match in re.findall(r"TRAFI_[A-Z][A-Z_]*[A-Z]", path.read_text())
    }
    assert [(name, str(path)) for name, path in sorted(named) if f"`{name}" not in text] == []
