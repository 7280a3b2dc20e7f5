"""The manifest reference cannot drift: schema generated, example valid, every key documented."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from trafi_host.manifest.load import parse_manifest
from trafi_host.manifest.schema import manifest_json_schema, manifest_json_schema_text

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_schema_matches_the_models() -> None:
    committed = (DOCS / "manifest.schema.json").read_text()
    assert committed == manifest_json_schema_text(), "run `./bootstrap just docs` to regenerate"


def test_documented_example_is_a_valid_manifest() -> None:
    text = (DOCS / "manifest.md").read_text()
    example = re.search(r"```json\n(.*?)```", text, re.S)
    assert example is not None
    manifest = parse_manifest(json.loads(example.group(1)))
    assert manifest.name == "loyalty-points"


def _keys(schema: dict[str, Any], node: dict[str, Any], prefix: str) -> set[str]:
    """Every dotted key path reachable through objects (arrays and unions looked into)."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    found: set[str] = set()
    for key, sub in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        found.add(path)
        for branch in [sub, *sub.get("anyOf", []), sub.get("items", {})]:
            if isinstance(branch, dict) and ("$ref" in branch or "properties" in branch):
                found |= _keys(schema, branch, path)
            items = branch.get("items") if isinstance(branch, dict) else None
            if isinstance(items, dict) and "$ref" in items:
                found |= _keys(schema, items, path)
    return found


def test_every_manifest_key_is_documented() -> None:
    schema = manifest_json_schema()
    text = (DOCS / "manifest.md").read_text()
    missing = sorted(
        k
        for k in _keys(schema, schema, "")
        if f"`{k}`" not in text and f"`{k.rsplit('.', 1)[-1]}`" not in text
    )
    assert not missing, f"manifest keys without a docs entry in docs/manifest.md: {missing}"


def test_capability_table_is_current() -> None:
    from trafi_host.capabilities.reference import with_capabilities

    text = (DOCS / "manifest.md").read_text()
    assert with_capabilities(text) == text, "run `./bootstrap just docs`"
