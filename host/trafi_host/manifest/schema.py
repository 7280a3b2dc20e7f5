"""The manifest's JSON Schema, generated from the models (`trafi docs schema`)."""

from __future__ import annotations

import json
from typing import Any

from ..capabilities.registry import ALL, Capabilities
from .model import manifest_model


def manifest_json_schema(capabilities: Capabilities = ALL) -> dict[str, Any]:
    return manifest_model(capabilities).model_json_schema(by_alias=True, mode="validation")


def manifest_json_schema_text(capabilities: Capabilities = ALL) -> str:
    return json.dumps(manifest_json_schema(capabilities), indent=2, sort_keys=True) + "\n"
