"""This module's settings, from the project's `trafi.config.json` (`modules.<name>.config`).

An operator sets them with `trafi module config <name> KEY VALUE`, checked against
the manifest's `configSchema` when it has one (whose defaults a first install sets):

    from trafi_sdk import config

    greeting = config.get("greeting", "hello")
"""

from __future__ import annotations

import json
from typing import Any

from . import _bindings

__all__ = ["get", "get_all"]


def get(key: str, default: Any = None) -> Any:
    """The setting's value (any JSON value), or `default` when it is not set.

    Example:

        limit = int(config.get("maxItems", 20))
    """
    raw = _bindings.require(_bindings.wit_config, "config").get(key)
    return default if raw is None else json.loads(raw)


def get_all() -> dict[str, Any]:
    """Every setting of this module, as a dict.

    Example:

        for name, value in config.get_all().items():
            log.debug(f"{name}={value!r}")
    """
    settings: dict[str, Any] = json.loads(_bindings.require(_bindings.wit_config, "config").get_all())
    return settings
