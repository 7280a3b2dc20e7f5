"""`trafi:host/config`: the module's own settings from `trafi.config.json`, read-only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..base import Capability, HostFunction, InstanceFacts, hostcall
from ..call import current_call


@dataclass(frozen=True)
class ConfigState:
    settings: Mapping[str, Any]


class ConfigCapability(Capability[ConfigState]):
    name: ClassVar[str] = "config"
    interface: ClassVar[str | None] = "trafi:host/config"
    summary: ClassVar[str] = (
        "The module's own settings (`modules.<name>.config` in `trafi.config.json`), read-only; "
        "always granted."
    )

    def prepare(self, facts: InstanceFacts) -> ConfigState:
        return ConfigState(facts.config)

    def functions(self) -> dict[str, HostFunction]:
        return {
            "get": hostcall("config.get", returns_result=False)(self.get),
            "get-all": hostcall("config.get-all", returns_result=False)(self.get_all),
        }

    def get(self, key: str) -> str | None:
        settings = self.state(current_call()).settings
        return json.dumps(settings[key]) if key in settings else None

    def get_all(self) -> str:
        return json.dumps(dict(self.state(current_call()).settings))
