"""This module's settings, from the project's `trafi.config.json`."""

from __future__ import annotations

import json
from typing import Any

from . import _bindings


def get(key: str, default: Any = None) -> Any:
    raw = _bindings.require(_bindings.wit_config, "config").get(key)
    return default if raw is None else json.loads(raw)


def get_all() -> dict[str, Any]:
    settings: dict[str, Any] = json.loads(_bindings.require(_bindings.wit_config, "config").get_all())
    return settings
