"""Manifest validation: strict, every problem listed with path, expectation, finding and hint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trafi_host.errors import ManifestError
from trafi_host.manifest.load import load_manifest, parse_manifest

VALID: dict[str, Any] = {
    "name": "loyalty-points",
    "version": "1.2.0",
    "description": "Points for every order.",
    "author": {"name": "Thomas", "email": "thomas@example.com"},
    "license": "MIT OR Apache-2.0",
    "trafi": "^0.1.0",
    "entry": {"backend": "dist/loyalty-points.wasm"},
}


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data)
    return [issue.render() for issue in caught.value.issues]


def test_minimal_manifest_is_valid_with_defaults() -> None:
    manifest = parse_manifest(VALID)
    assert manifest.name == "loyalty-points"
    assert manifest.world == "trafi:host/module@0.1.0"
    assert manifest.permissions.kv is None
    assert manifest.limits.timeout_ms == 2000


def test_every_problem_is_listed_not_only_the_first() -> None:
    found = problems({**VALID, "name": "Loyalty_Points", "version": "1.2", "license": "Nope-1.0"})
    assert len(found) == 3
    assert any(p.startswith("$.name:") and "'Loyalty_Points'" in p for p in found)
    assert any(p.startswith("$.version:") and "semantic version" in p for p in found)
    assert any(p.startswith("$.license:") and "SPDX" in p for p in found)


def test_unknown_key_gets_a_did_you_mean() -> None:
    found = problems({**VALID, "permisions": {}})
    assert found == ["$.permisions: unknown key; did you mean 'permissions'?"]


def test_nested_unknown_key_gets_a_did_you_mean() -> None:
    found = problems({**VALID, "limits": {"timeoutMS": 100}})
    assert found == ["$.limits.timeoutMS: unknown key; did you mean 'timeoutMs'?"]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"entry": {"backend": "x.wasm", "dashboard": "ui"}}, "$.entry.dashboard"),
    ],
)
def test_keys_no_capability_implements_are_refused_as_unsupported(data: dict[str, Any], path: str) -> None:
    # Accepted and ignored, they would promise a module something nothing enforces.
    found = problems({**VALID, **data})
    assert len(found) == 1 and found[0].startswith(f"{path}: not supported by this host"), found


def test_missing_required_keys_are_named() -> None:
    data = dict(VALID)
    del data["trafi"]
    del data["entry"]
    assert problems(data) == ["$.trafi: required key is missing", "$.entry: required key is missing"]


def test_wrong_types_say_what_was_found() -> None:
    found = problems({**VALID, "limits": {"memoryMb": "lots"}, "events": "order.created"})
    assert any(p.startswith("$.limits.memoryMb:") and "'lots'" in p for p in found)
    assert any(p.startswith("$.events:") for p in found)


def test_paths_must_stay_inside_the_module() -> None:
    found = problems({**VALID, "entry": {"backend": "../other/x.wasm"}, "build": {"sourceDir": "/etc"}})
    assert any("$.entry.backend" in p and "no '..'" in p for p in found)
    assert any("$.build.sourceDir" in p and "not absolute" in p for p in found)


def test_bad_ranges_are_refused() -> None:
    found = problems({**VALID, "trafi": "whenever", "dependencies": {"points": "soon"}})
    assert any(p.startswith("$.trafi:") for p in found)
    assert any(p.startswith("$.dependencies:") and "points" in p for p in found)


def test_event_subscriptions_and_permissions_are_typed() -> None:
    manifest = parse_manifest(
        {
            **VALID,
            "events": [{"event": "order.created", "mode": "sync"}],
            "permissions": {
                "network": [{"host": "api.example.com", "reason": "Sends points to the CRM"}],
                "env": [{"name": "CRM_TOKEN", "reason": "Authenticates to the CRM"}],
                "core": [{"scope": "orders:read", "reason": "Reads order totals"}],
            },
        }
    )
    assert manifest.events[0].mode == "sync"
    assert manifest.permissions.network[0].ports == [443]
    found = problems({**VALID, "events": [{"event": "OrderCreated"}]})
    assert found and found[0].startswith("$.events[0].event:")


def test_unsupported_world_version_is_refused() -> None:
    found = problems({**VALID, "world": "trafi:host/module@9.0.0"})
    assert found[0].startswith("$.world:") and "0.1.0" in found[0]


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no trafi-module\.json"):
        load_manifest(tmp_path)
    (tmp_path / "trafi-module.json").write_text("{ not json")
    with pytest.raises(ManifestError, match=r"not valid JSON.*line 1"):
        load_manifest(tmp_path)
    (tmp_path / "trafi-module.json").write_text(json.dumps([1, 2]))
    with pytest.raises(ManifestError, match="must be a JSON object"):
        load_manifest(tmp_path)


def test_example_modules_have_valid_manifests() -> None:
    repo = Path(__file__).resolve().parents[3]
    for manifest_file in (repo / "modules").glob("*/trafi-module.json"):
        assert load_manifest(manifest_file.parent).name == manifest_file.parent.name
