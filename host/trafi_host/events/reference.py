"""The event catalogue as data (`trafi events list --json`) and as `docs/events.md`."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from ..generated_section import replace_section
from .catalogue import EVENTS, EventType, Payload


class EventField(BaseModel):
    name: str
    type: str
    description: str | None = None


class EventInfo(BaseModel):
    name: str
    version: int
    fires: str
    payload: str  # the payload model's name (the WIT record's, in kebab-case)
    fields: list[EventField]
    example: dict[str, Any]


def _type_name(schema: dict[str, Any], definitions: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    if schema.get("type") == "array":
        return f"list of {_type_name(schema['items'], definitions)}"
    if "anyOf" in schema:
        return " or ".join(_type_name(option, definitions) for option in schema["anyOf"])
    return str(schema.get("type", "any"))


def _fields(payload: type[Payload]) -> list[EventField]:
    schema = payload.model_json_schema()
    definitions = schema.get("$defs", {})
    return [
        EventField(name=name, type=_type_name(spec, definitions), description=spec.get("description"))
        for name, spec in schema["properties"].items()
    ]


def event_info(event: EventType) -> EventInfo:
    return EventInfo(
        name=event.name,
        version=event.version,
        fires=event.fires,
        payload=event.payload.__name__,
        fields=_fields(event.payload),
        example=event.example,
    )


def catalogue() -> list[EventInfo]:
    return [event_info(event) for event in EVENTS.values()]


def _nested_models() -> dict[str, type[Payload]]:
    nested: dict[str, type[Payload]] = {}
    for event in EVENTS.values():
        for field in event.payload.model_fields.values():
            annotation = field.annotation
            for candidate in getattr(annotation, "__args__", ()) or (annotation,):
                if isinstance(candidate, type) and issubclass(candidate, Payload):
                    nested[candidate.__name__] = candidate
    return nested


def events_markdown() -> str:
    lines: list[str] = []
    lines.append("| event | fires when | payload |")
    lines.append("|---|---|---|")
    for info in catalogue():
        anchor = info.name.replace(".", "")
        lines.append(f"| [`{info.name}`](#{anchor}) | {info.fires} | `{info.payload}` |")
    for info in catalogue():
        lines += [
            "",
            f"### `{info.name}`",
            "",
            f"{info.fires} Payload `{info.payload}`, version {info.version}:",
            "",
        ]
        lines += ["| field | type | notes |", "|---|---|---|"]
        lines += [f"| `{f.name}` | {f.type} | {f.description or ''} |" for f in info.fields]
        envelope = {
            "id": "0b6f3c1e-8a52-4a5e-9b1d-2f7c4e9a6d10",
            "type": info.name,
            "tenant": "acme" if not info.name.startswith("module.") else "",
            "occurred_at": "2026-11-28T10:15:00Z",
            "version": info.version,
            "source": "core",
            "payload": info.example,
        }
        lines += ["", "```json", json.dumps(envelope, indent=2), "```"]
    for name, model in sorted(_nested_models().items()):
        lines += ["", f"### `{name}`", "", "| field | type | notes |", "|---|---|---|"]
        lines += [f"| `{f.name}` | {f.type} | {f.description or ''} |" for f in _fields(model)]
    return "\n".join(lines)


def with_events(document: str) -> str:
    """`document` with its events section replaced by the current catalogue."""
    return replace_section(document, "events", events_markdown())
