"""`trafi module config`: settings checked against the manifest's schema, written under the lock, audited."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from tests.conftest import HELLO, snapshot
from trafi_cli.main import app
from trafi_host.audit_log import AuditLog
from trafi_host.db import Database
from trafi_host.project import ModuleEntry, Project
from trafi_host.project.config import ModuleSource

runner = CliRunner()
SCHEMA = {
    "type": "object",
    "properties": {
        "greeting": {"type": "string", "maxLength": 20},
        "maxHits": {"type": "integer", "minimum": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["greeting"],
    "additionalProperties": False,
}


def trafi(project: Project, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "-C", str(project.root)])
    return result.exit_code, result.output


@pytest.fixture
def configured(sqlite_project: Project) -> Project:
    """hello with a config schema, as an install leaves it (folder and entry); the install itself
    is not what these tests are about, and validating plus trial-starting it takes seconds."""
    folder = sqlite_project.module_dir("hello")
    shutil.copytree(HELLO, folder, ignore=shutil.ignore_patterns("__pycache__", "tests", "dist"))
    manifest = json.loads((folder / "trafi-module.json").read_text())
    (folder / "trafi-module.json").write_text(json.dumps({**manifest, "configSchema": SCHEMA}))
    config = sqlite_project.load_config()
    source = ModuleSource(kind="path", spec=str(HELLO), resolved=str(HELLO))
    config.modules["hello"] = ModuleEntry(version=manifest["version"], source=source, digest="0" * 64)
    sqlite_project.save_config(config)
    return sqlite_project


def test_values_are_set_typed_and_read_back(configured: Project) -> None:
    assert trafi(configured, "module", "config", "hello", "greeting", "bonjour")[0] == 0
    assert trafi(configured, "module", "config", "hello", "maxHits", "20")[0] == 0
    assert trafi(configured, "module", "config", "hello", "tags", '["a", "b"]')[0] == 0
    assert configured.module_entry("hello").config == {
        "greeting": "bonjour",
        "maxHits": 20,
        "tags": ["a", "b"],
    }
    code, out = trafi(configured, "module", "config", "hello", "maxHits")
    assert (code, out.strip()) == (0, "20")
    code, out = trafi(configured, "module", "config", "hello", "--json")
    assert json.loads(out) == {
        "module": "hello",
        "config": {"greeting": "bonjour", "maxHits": 20, "tags": ["a", "b"]},
        "missing": [],
    }
    assert trafi(configured, "module", "config", "hello", "tags", "--unset")[0] == 0
    assert "tags" not in configured.module_entry("hello").config


def test_a_value_the_schema_refuses_changes_nothing(configured: Project) -> None:
    before = snapshot(configured)
    for key, value, reason in [
        ("maxHits", "many", "maxHits: 'many' is not of type 'integer'"),
        ("maxHits", "0", "maxHits: 0 is less than the minimum of 1"),
        ("greeting", "x" * 21, "greeting: 'xxxxxxxxxxxxxxxxxxxxx' is too long"),
        ("colour", "blue", "Additional properties are not allowed ('colour' was unexpected)"),
    ]:
        code, out = trafi(configured, "module", "config", "hello", key, value)
        assert code != 0
        assert reason in " ".join(out.split()), out
        assert snapshot(configured) == before


def test_a_missing_required_key_is_a_warning_and_the_change_is_audited(configured: Project) -> None:
    code, out = trafi(configured, "module", "config", "hello", "maxHits", "3")
    assert code == 0, out
    assert "requires greeting, not set yet" in out
    with Database(configured.database_url()) as database:
        entries = AuditLog(database).entries("hello", 10)
    assert (entries[0].action, entries[0].detail) == ("config-changed", "set maxHits")


def test_an_unknown_module_or_setting_is_refused(configured: Project) -> None:
    code, out = trafi(configured, "module", "config", "nope")
    assert code != 0 and "no installed module named 'nope'" in out
    code, out = trafi(configured, "module", "config", "hello", "greeting")
    assert code != 0 and "has no setting 'greeting'" in out
