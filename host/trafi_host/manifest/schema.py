"""The manifest's JSON Schema, generated from the models (`trafi docs schema`)."""

from __future__ import annotations

import json
from typing import Any

from .model import Manifest


def manifest_json_schema() -> dict[str, Any]:
    return Manifest.model_json_schema(by_alias=True, mode="validation")


def manifest_json_schema_text() -> str:
    return json.dumps(manifest_json_schema(), indent=2, sort_keys=True) + "\n"
