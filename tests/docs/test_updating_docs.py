"""docs/updating.md: its config migration example is what the host does; its settings table is the model's."""

from __future__ import annotations

import json
import re

from tests.conftest import REPO
from trafi_host.manifest.config_schema import check_config_schema, config_problems, migrate_config
from trafi_host.project.config import UpdateSettings

DOC = (REPO / "docs" / "updating.md").read_text()


def test_the_config_migration_example_is_what_an_update_does() -> None:
    schema, before, after = (json.loads(block) for block in re.findall(r"```json\n(.*?)```", DOC, re.S))
    check_config_schema(schema)

    migration = migrate_config(before, schema)

    assert migration.config == after
    assert config_problems(migration.config, schema) == []
    for line in migration.describe():
        assert f"`{line}`" in DOC


def test_the_settings_table_lists_every_update_setting_with_its_default() -> None:
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", DOC, re.M))
    settings = UpdateSettings()
    for name, field in UpdateSettings.model_fields.items():
        alias = field.alias or name
        assert alias in rows, alias
        assert rows[alias].strip() == f"{getattr(settings, name):g}", alias
