"""The component import audit: what a component imports, against what its manifest grants."""

from __future__ import annotations

from pathlib import Path

from trafi_host.manifest import load_manifest, parse_manifest
from trafi_host.runtime.artifacts import ArtifactCache
from trafi_host.runtime.engine import EngineSettings
from trafi_host.validation.import_audit import ComponentSurface, audit_imports, component_surface

BASE = {
    "name": "probe",
    "version": "1.0.0",
    "description": "probe",
    "author": "tests",
    "license": "MIT",
    "trafi": "^0.1.0",
    "entry": {"backend": "dist/probe.wasm"},
}
EXPORTS = ("trafi:host/http-handler@0.1.0", "trafi:host/lifecycle@0.1.0")


def rules(imports: tuple[str, ...], exports: tuple[str, ...] = EXPORTS, **manifest: object) -> list[str]:
    found = audit_imports(ComponentSurface(imports, exports), parse_manifest({**BASE, **manifest}))
    return [f"{f.rule} {f.subject}" for f in found]


def test_wasi_http_is_refused() -> None:
    assert rules(("wasi:http/outgoing-handler@0.2.0",)) == ["TRF-I002 wasi:http/outgoing-handler@0.2.0"]


def test_unknown_interfaces_and_versions_are_refused() -> None:
    assert rules(("evil:backdoor/shell@1.0.0", "trafi:host/kv@9.0.0", "trafi:host/secrets@0.1.0")) == [
        "TRF-I001 evil:backdoor/shell@1.0.0",
        "TRF-I001 trafi:host/kv@9.0.0",
        "TRF-I001 trafi:host/secrets@0.1.0",
    ]


def test_an_ungranted_host_interface_is_a_warning() -> None:
    assert rules(("trafi:host/kv@0.1.0",)) == ["TRF-I003 trafi:host/kv@0.1.0"]
    assert rules(("trafi:host/kv@0.1.0",), permissions={"kv": {"reason": "counters"}}) == []


def test_sockets_are_listed_as_denied() -> None:
    assert rules(("wasi:sockets/tcp@0.2.9", "wasi:io/poll@0.2.9")) == ["TRF-I004 wasi:sockets/tcp@0.2.9"]


def test_missing_exports_are_refused() -> None:
    assert rules((), exports=("greet",)) == [
        "TRF-I005 trafi:host/lifecycle",
        "TRF-I005 trafi:host/http-handler",
    ]


def test_real_components(shared_artifact_cache: Path, hello_dir: Path, wrong_world_dir: Path) -> None:
    artifacts = ArtifactCache.for_settings(shared_artifact_cache, EngineSettings())
    for folder, expected_errors in ((hello_dir, []), (wrong_world_dir, ["TRF-I005", "TRF-I005"])):
        manifest = load_manifest(folder)
        component, _ = artifacts.load(folder / manifest.entry.backend, manifest.name)
        found = audit_imports(component_surface(component, artifacts.engine), manifest)
        assert [f.rule for f in found if f.severity == "error"] == expected_errors
