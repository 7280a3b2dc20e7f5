"""A module's `configSchema`: what its settings may hold, their defaults, and keys renamed.

The manifest carries a JSON Schema (draft 2020-12) of the object in
`modules.<name>.config` of `trafi.config.json`. The host uses it three ways:

- install: a first install starts from the schema's defaults;
- update: the config kept from the previous version is migrated — a key the new
  schema renamed (`"x-trafi-renamed-from": "oldKey"` or a list, on the new
  property) moves to its new name, a new property with a `default` gets it —
  then validated, so an update never runs on settings its code does not know;
- `trafi module config`: a value set by hand is checked before it is written.

Only top-level properties are migrated: nested objects keep their shape (a
schema that restructures deeply is a breaking change, announced by the major
version).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

RENAMED_FROM = "x-trafi-renamed-from"

JsonObject = dict[str, Any]


def check_config_schema(schema: JsonObject) -> JsonObject:
    """A usable schema, or ValueError naming what is wrong (for the manifest's validator)."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise ValueError(f"not a valid JSON Schema at {where}: {error.message}") from None
    if schema.get("type") != "object":
        raise ValueError('must describe an object: {"type": "object", "properties": {...}}')
    for key, sub in _properties(schema).items():
        renamed = sub.get(RENAMED_FROM) if isinstance(sub, dict) else None
        if renamed is None:
            continue
        names = [renamed] if isinstance(renamed, str) else renamed
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"properties.{key}.{RENAMED_FROM}: a key name or a list of key names")
        if key in names:
            raise ValueError(f"properties.{key}.{RENAMED_FROM}: a key cannot be renamed from itself")
    return schema


def _properties(schema: JsonObject) -> dict[str, Any]:
    properties = schema.get("properties")
    return properties if isinstance(properties, dict) else {}


def config_problems(config: JsonObject, schema: JsonObject | None) -> list[str]:
    """Every way `config` breaks `schema`, each naming its key path (empty: valid)."""
    if schema is None:
        return []
    validator = Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in error.absolute_path) or "(the config)"
        problems.append(f"{where}: {error.message}")
    return problems


def default_config(schema: JsonObject | None) -> JsonObject:
    """A first install's config: each top-level property's `default`."""
    return migrate_config({}, schema).config


@dataclass
class ConfigMigration:
    config: JsonObject
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old key, new key)
    defaulted: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        lines = [f"config key {old!r} renamed to {new!r}" for old, new in self.renamed]
        lines += [f"config key {key!r} added with its default" for key in self.defaulted]
        return lines


def migrate_config(config: JsonObject, schema: JsonObject | None) -> ConfigMigration:
    """The previous version's config as the new schema wants it (renames, then defaults)."""
    migrated = copy.deepcopy(config)
    result = ConfigMigration(migrated)
    if schema is None:
        return result
    properties = _properties(schema)
    for key, sub in properties.items():
        if key in migrated or not isinstance(sub, dict):
            continue
        renamed = sub.get(RENAMED_FROM)
        for old in [renamed] if isinstance(renamed, str) else renamed or []:
            # A key the new schema still declares is not "old": it stays where it is.
            if old in migrated and old not in properties:
                migrated[key] = migrated.pop(old)
                result.renamed.append((old, key))
                break
    for key, sub in properties.items():
        if key not in migrated and isinstance(sub, dict) and "default" in sub:
            migrated[key] = copy.deepcopy(sub["default"])
            result.defaulted.append(key)
    return result
