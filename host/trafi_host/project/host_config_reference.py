"""The `host` section of `trafi.config.json` as a table of docs/settings.md, generated from
`HostSettings` so that a key cannot be added, bounded or defaulted without its docs."""

from __future__ import annotations

from typing import Any

from ..generated_section import replace_section
from .config import HostSettings

_TYPES = {"integer": "integer", "number": "number", "string": "text"}


def _value(schema: dict[str, Any]) -> str:
    kind = next((option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"), schema)
    value = _TYPES[kind["type"]]
    if "minimum" in kind and "maximum" in kind:
        return f"{value} {kind['minimum']} to {kind['maximum']}"
    bounds = []
    if "minimum" in kind:
        bounds.append(f"at least {kind['minimum']}")
    if "exclusiveMinimum" in kind:
        bounds.append(f"above {kind['exclusiveMinimum']}")
    if "maximum" in kind:
        bounds.append(f"at most {kind['maximum']}")
    return ", ".join([value, *bounds])


def _default(value: object) -> str:
    return "unset" if value is None else f"`{value}`"


def host_config_markdown() -> str:
    schemas = HostSettings.model_json_schema(by_alias=True)["properties"]
    lines = ["| key | value | default | what |", "|---|---|---|---|"]
    for name, field in HostSettings.model_fields.items():
        key = field.alias or name
        lines.append(
            f"| `host.{key}` | {_value(schemas[key])} | {_default(field.default)} | {field.description} |"
        )
    return "\n".join(lines)


def with_host_config(document: str) -> str:
    """`document` with its host-config section replaced by the table of `HostSettings`."""
    return replace_section(document, "host-config", host_config_markdown())
