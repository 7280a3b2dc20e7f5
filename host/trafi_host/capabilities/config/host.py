"""`trafi:host/config`: the module's own settings from `trafi.config.json`, read-only."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from ..base import hostcall
from ..context import current_call


class ConfigCapability:
    name: ClassVar[str] = "config"
    interface: ClassVar[str] = "trafi:host/config"

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {
            "get": hostcall("config.get", returns_result=False)(self.get),
            "get-all": hostcall("config.get-all", returns_result=False)(self.get_all),
        }

    def get(self, key: str) -> str | None:
        settings = current_call().config
        return json.dumps(settings[key]) if key in settings else None

    def get_all(self) -> str:
        return json.dumps(dict(current_call().config))
