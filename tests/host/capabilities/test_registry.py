"""Adding a capability is one folder and one line: a throwaway capability shows up
everywhere the registry feeds (manifest schema, permission listing, inspect, the
import audit, the docs table, linking and per-instance state)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
import wasmtime

from trafi_host.capabilities.base import (
    Capability,
    HostFunction,
    InstanceFacts,
    PermissionSection,
    hostcall,
)
from trafi_host.capabilities.reference import capabilities_markdown
from trafi_host.capabilities.registry import ALL, permissions_model
from trafi_host.errors import ManifestError
from trafi_host.inspection import inspect_module
from trafi_host.manifest.base import Grant, PermissionsBase
from trafi_host.manifest.load import parse_manifest
from trafi_host.manifest.schema import manifest_json_schema
from trafi_host.runtime.engine import EngineSettings, make_engine
from trafi_host.runtime.instance import prepare_capabilities
from trafi_host.runtime.linker import build_linker
from trafi_host.validation.import_audit import ComponentSurface, audit_imports


class WeatherGrant(Grant):
    city: str


@dataclass(frozen=True)
class WeatherState:
    city: str | None


class WeatherCapability(Capability[WeatherState]):
    name: ClassVar[str] = "weather"
    interface: ClassVar[str | None] = "trafi:host/weather"
    section: ClassVar[PermissionSection | None] = PermissionSection(
        "weather", WeatherGrant | None, "Today's weather for one city."
    )
    gates_import: ClassVar[bool] = True
    base_world: ClassVar[bool] = False
    summary: ClassVar[str] = "The weather, for modules that sell umbrellas."

    def permission_items(self, grant: Any) -> dict[str, str]:
        return {f"weather: {grant.city}": grant.reason} if grant else {}

    def prepare(self, facts: InstanceFacts) -> WeatherState:
        grant = self.grant(facts.permissions)
        return WeatherState(grant.city if grant else None)

    def functions(self) -> dict[str, HostFunction]:
        return {"today": hostcall("weather.today", returns_result=False)(lambda: "rain")}


WITH_WEATHER = (*ALL, WeatherCapability())
MANIFEST = {
    "name": "umbrellas",
    "version": "1.0.0",
    "description": "Sells umbrellas when it rains.",
    "author": "Ann",
    "license": "MIT",
    "trafi": "^0.1.0",
    "entry": {"backend": "dist/umbrellas.wasm"},
    "permissions": {"weather": {"city": "Berlin", "reason": "Shows umbrellas when it rains there."}},
}
SURFACE = ComponentSurface(
    imports=("trafi:host/log@0.1.0", "trafi:host/weather@0.1.0"),
    exports=("trafi:host/http-handler@0.1.0", "trafi:host/lifecycle@0.1.0"),
)


def test_its_key_is_in_the_manifest_model_and_schema() -> None:
    schema = manifest_json_schema(WITH_WEATHER)
    assert "weather" in schema["$defs"]["Permissions"]["properties"]
    assert "weather" not in manifest_json_schema()["$defs"]["Permissions"]["properties"]
    manifest = parse_manifest(MANIFEST, capabilities=WITH_WEATHER)
    assert WeatherCapability().grant(manifest.permissions).city == "Berlin"


def test_without_the_capability_its_key_is_refused() -> None:
    with pytest.raises(ManifestError, match=r"\$\.permissions\.weather: unknown key"):
        parse_manifest(MANIFEST)


def test_inspect_lists_its_permission_and_accepts_its_import() -> None:
    manifest = parse_manifest(MANIFEST, capabilities=WITH_WEATHER)
    inspection = inspect_module(manifest, SURFACE, capabilities=WITH_WEATHER)
    assert [(p.permission, p.status) for p in inspection.permissions] == [("weather: Berlin", "requested")]
    assert {i.name: i.status for i in inspection.imports}["trafi:host/weather@0.1.0"] == "ok"


def test_the_import_audit_knows_its_interface_and_its_gate() -> None:
    granted = parse_manifest(MANIFEST, capabilities=WITH_WEATHER)
    assert audit_imports(SURFACE, granted, WITH_WEATHER) == []
    ungranted = parse_manifest({**MANIFEST, "permissions": {}}, capabilities=WITH_WEATHER)
    [finding] = audit_imports(SURFACE, ungranted, WITH_WEATHER)
    assert (finding.rule, finding.message) == ("TRF-I006", "permissions.weather is not granted")
    # A host without the capability does not know the interface at all.
    [unknown] = audit_imports(SURFACE, ungranted)
    assert (unknown.rule, unknown.subject) == ("TRF-I001", "trafi:host/weather@0.1.0")


def test_the_docs_table_has_its_row() -> None:
    row = next(line for line in capabilities_markdown(WITH_WEATHER).splitlines() if "weather" in line)
    assert "`trafi:host/weather`" in row and "`permissions.weather`" in row and "umbrellas" in row


def test_it_is_linked_and_prepared_per_instance(tmp_path: Path) -> None:
    build_linker(make_engine(EngineSettings()), WITH_WEATHER)
    manifest = parse_manifest(MANIFEST, capabilities=WITH_WEATHER)
    facts = InstanceFacts(
        module="umbrellas",
        version="1.0.0",
        tenant="acme",
        folder=tmp_path,
        data_root=None,
        config={},
        env={},
        permissions=manifest.permissions,
        dependencies=frozenset(),
    )
    states, wasi = prepare_capabilities(WITH_WEATHER, facts)
    assert states["weather"] == WeatherState("Berlin")
    assert isinstance(wasi, wasmtime.WasiConfig)


def test_the_registry_is_the_only_source_of_permission_keys() -> None:
    keys = [c.section.key for c in ALL if c.section is not None]
    assert list(permissions_model().model_fields) == keys
    assert issubclass(permissions_model(), PermissionsBase)
    assert len({c.name for c in ALL}) == len(ALL)
