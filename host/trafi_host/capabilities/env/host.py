"""WASI environment: only granted variable names, with the operator's values.

Never the host process's environment: a module sees exactly the variables its
grant names that the operator gave a value (`modules.<name>.env`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, cast

import wasmtime

from ...manifest.base import PermissionsBase
from ..base import Capability, InstanceFacts, PermissionSection
from .grant import EnvGrant


@dataclass(frozen=True)
class EnvState:
    variables: tuple[tuple[str, str], ...]


class EnvCapability(Capability[EnvState]):
    name: ClassVar[str] = "env"
    section: ClassVar[PermissionSection | None] = PermissionSection(
        "env",
        list[EnvGrant],
        "Environment variable names (`UPPER_SNAKE_CASE`); values come from the operator's config "
        "(`modules.<name>.env` in `trafi.config.json`), never from the host process.",
        default_factory=list,
    )
    summary: ClassVar[str] = "Environment variables through WASI: granted names only, operator's values."

    def grant(self, permissions: PermissionsBase) -> list[EnvGrant]:
        return cast("list[EnvGrant]", super().grant(permissions))

    def permission_items(self, grant: Any) -> dict[str, str]:
        return {f"env: {g.name}": g.reason for g in grant or []}

    def prepare(self, facts: InstanceFacts) -> EnvState:
        granted = {entry.name for entry in self.grant(facts.permissions)}
        return EnvState(tuple(sorted((k, v) for k, v in facts.env.items() if k in granted)))

    def configure_wasi(self, wasi: wasmtime.WasiConfig, state: EnvState) -> None:
        wasi.env = list(state.variables)
