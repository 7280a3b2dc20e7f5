"""`trafi module config`: a module's settings in `trafi.config.json`, checked against its `configSchema`.

A value is read as JSON when it parses (`20`, `true`, `["a"]`, `"20"`) and as a
string otherwise (`bonjour`), then the whole settings object is checked against
the manifest's `configSchema`: a value of the wrong type or an unknown key
(with `"additionalProperties": false`) is refused with the schema's reason; a
`required` key still missing is reported, not refused, so settings can be set
one at a time. The change is written atomically under the project lock and
recorded in the audit log (the key, not the value: settings may be secrets);
running hosts notice the config file's change and restart the module with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from .audit_log import AuditLog
from .db import Database
from .errors import TrafiError, UsageError
from .manifest.load import load_manifest
from .project import Project


class SettingRefused(TrafiError):
    """A setting the module's config schema does not accept."""


@dataclass(frozen=True)
class ModuleSettings:
    module: str
    values: dict[str, Any]
    schema: dict[str, Any] | None
    missing: list[str] = field(default_factory=list)  # `required` keys not set yet


def parse_value(text: str) -> Any:
    """`20` -> 20, `true` -> True, `{"a": 1}` -> a dict, `"20"` -> "20", `bonjour` -> "bonjour"."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _checked(module: str, values: dict[str, Any], schema: dict[str, Any] | None) -> list[str]:
    """The `required` keys still missing; SettingRefused for anything else the schema refuses."""
    if schema is None:
        return []
    missing: list[str] = []
    problems: list[str] = []
    for error in sorted(Draft202012Validator(schema).iter_errors(values), key=lambda e: list(e.path)):
        if error.validator == "required" and not error.path:
            missing += [key for key in schema.get("required", []) if key not in values]
            continue
        where = ".".join(str(part) for part in error.path) or "(settings)"
        problems.append(f"{where}: {error.message}")
    if problems:
        raise SettingRefused(f"module {module}: its config schema refuses " + "; ".join(problems))
    return sorted(set(missing))


def read_settings(project: Project, name: str) -> ModuleSettings:
    entry = project.module_entry(name)
    schema = load_manifest(project.module_dir(name)).config_schema
    values = dict(entry.config)
    try:
        missing = _checked(name, values, schema)
    except SettingRefused:
        missing = []  # shown as they are: `set` says what is wrong
    return ModuleSettings(name, values, schema, missing)


def change_setting(
    project: Project, name: str, key: str, value: Any | None, *, unset: bool = False
) -> ModuleSettings:
    """Sets `key` to `value` (or removes it with `unset`) in the module's settings."""
    if not key:
        raise UsageError("the setting's name is empty")
    with project.exclusive():
        config = project.load_config()
        entry = project.module_entry(name)
        schema = load_manifest(project.module_dir(name)).config_schema
        values = dict(entry.config)
        if unset:
            if key not in values:
                raise UsageError(f"module {name} has no setting {key!r}")
            del values[key]
        else:
            values[key] = value
        missing = _checked(name, values, schema)
        config.modules[name] = entry.model_copy(update={"config": values})
        project.save_config(config)
        with Database(project.database_url()) as database:
            database.migrate()
            AuditLog(database, project.settings.actor).record(
                name, "config-changed", detail=f"{'removed' if unset else 'set'} {key}"
            )
    return ModuleSettings(name, values, schema, missing)
