"""docs/settings.md lists every `TRAFI_*` variable the host reads, generated from `HostSettings`,
and every key of the config's `host` section, generated from the project's `HostSettings`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from trafi_host.errors import TrafiError
from trafi_host.project import Project
from trafi_host.project.config import HostSettings as HostConfig
from trafi_host.project.host_config_reference import with_host_config
from trafi_host.reference_tables import with_settings
from trafi_host.runtime.body_caps import MAX_ONE_COPY_BODY_BYTES
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


def test_host_config_table_is_current() -> None:
    text = DOC.read_text()
    assert with_host_config(text) == text, "run `./bootstrap just docs` to regenerate docs/settings.md"


def test_every_host_config_key_is_a_row_of_the_table() -> None:
    rows = re.findall(r"^\| `host\.([A-Za-z]+)` \|", DOC.read_text(), re.M)
    assert rows == [field.alias for field in HostConfig.model_fields.values()]


def _with_host_section(project: Project, host: dict[str, object]) -> None:
    data = json.loads(project.config_path.read_text())
    project.config_path.write_text(json.dumps({**data, "host": host}))


def test_the_example_takes_effect_and_an_out_of_range_value_is_named(tmp_path: Path) -> None:
    example = re.search(r"## The `host` section.*?```json\n(.*?)```", DOC.read_text(), re.S)
    assert example is not None
    project = Project.init(tmp_path / "shop")
    _with_host_section(project, json.loads(example.group(1))["host"])
    assert project.host_limits().max_response_bytes == 4 << 20
    assert project.load_config().host.incident_threshold == 10

    _with_host_section(project, {"maxRequestBytes": MAX_ONE_COPY_BODY_BYTES + 1})
    with pytest.raises(TrafiError, match=r"host\.maxRequestBytes: Input should be less than or equal to"):
        project.load_config()
