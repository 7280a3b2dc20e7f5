"""Tables of the docs generated from the code: exit codes (docs/cli.md), settings (docs/settings.md)."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from .errors import ExitCode
from .generated_section import replace_section
from .settings import HostSettings, variable_name

_KINDS: dict[Any, str] = {
    str: "text",
    Path: "path",
    int: "integer",
    bool: "`1`/`0` (or `true`/`false`)",
    SecretStr: "secret text",
}


def exit_codes_markdown() -> str:
    lines = ["| code | meaning |", "|---|---|"]
    lines += [f"| {code.value} | {code.meaning} |" for code in ExitCode]
    return "\n".join(lines)


def with_exit_codes(document: str) -> str:
    """`document` with its exit-codes section replaced by the table of `ExitCode`."""
    return replace_section(document, "exit-codes", exit_codes_markdown())


def _kind(field: FieldInfo, schema: dict[str, Any]) -> str:
    annotation = field.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    if get_origin(annotation) is Literal:
        return " / ".join(f"`{choice}`" for choice in get_args(annotation))
    kind = _KINDS[annotation]
    bounds = next((option for option in schema.get("anyOf", [schema]) if "minimum" in option), None)
    if bounds is not None:
        kind += f" {bounds['minimum']} to {bounds['maximum']}"
    return kind


def _default(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{int(value)}`"
    return f"`{value}`"


def settings_markdown() -> str:
    schemas = HostSettings.model_json_schema()["properties"]
    lines = ["| variable | value | default | what |", "|---|---|---|---|"]
    for name, field in HostSettings.model_fields.items():
        lines.append(
            f"| `{variable_name(name)}` | {_kind(field, schemas[name])} | {_default(field.default)} "
            f"| {field.description} |"
        )
    return "\n".join(lines)


def with_settings(document: str) -> str:
    """`document` with its settings section replaced by the table of `HostSettings`."""
    return replace_section(document, "settings", settings_markdown())
