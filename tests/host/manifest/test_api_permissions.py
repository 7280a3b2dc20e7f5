"""`apiPermissions`: a module declares its own `<module>:<action>` permissions, nothing else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.host.manifest.test_manifest import VALID, problems
from trafi_host.manifest.load import parse_manifest
from trafi_host.permission_catalogue import module_permissions, permission_catalogue
from trafi_host.project import Project
from trafi_host.project.dev_folders import record_dev_folders


def test_declared_permissions_join_the_base_one() -> None:
    manifest = parse_manifest(
        {**VALID, "apiPermissions": {"loyalty-points:adjust": "Change a balance by hand"}}
    )
    assert module_permissions(manifest) == {
        "loyalty-points:use": "Call the loyalty-points module's API routes",
        "loyalty-points:adjust": "Change a balance by hand",
    }


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ({"commerce:write": "Write the core's commerce"}, "module's own namespace"),
        ({"hello:adjust": "Another module's"}, "module's own namespace"),
        ({"loyalty-points:use": "Every route needs it"}, "implicit"),
        ({"loyalty-points:*": "A wildcard"}, "must match"),
        ({"loyalty-points:Adjust": "Upper case"}, "must match"),
        ({"loyalty-points:adjust": "x"}, "at least 3"),
    ],
)
def test_a_permission_outside_the_modules_namespace_or_malformed_is_refused(
    declared: dict[str, str], expected: str
) -> None:
    found = problems({**VALID, "apiPermissions": declared})
    assert any(p.startswith("$.apiPermissions") or "apiPermissions" in p for p in found), found
    assert any(expected in p for p in found), found


@pytest.mark.parametrize("name", ["commerce", "modules", "tenants", "users", "audit"])
def test_a_module_cannot_take_a_core_permission_namespace(name: str) -> None:
    data: dict[str, Any] = {**VALID, "name": name, "entry": {"backend": f"dist/{name}.wasm"}}
    found = problems(data)
    assert any(p.startswith("$.name:") and "permissions are the core's" in p for p in found), found


def test_the_modules_a_project_serves_under_trafi_dev_have_grantable_permissions(tmp_path: Path) -> None:
    """Not installed, so not in the project's config: `trafi dev` records their folders."""
    project = Project.init(tmp_path / "dev")
    developed = tmp_path / "loyalty-points"
    developed.mkdir()
    manifest = {**VALID, "apiPermissions": {"loyalty-points:adjust": "Change a balance by hand"}}
    (developed / "trafi-module.json").write_text(json.dumps(manifest))
    broken = tmp_path / "half-written"
    broken.mkdir()
    (broken / "trafi-module.json").write_text("{")
    assert "loyalty-points:adjust" not in permission_catalogue(project)

    record_dev_folders(project.state_dir, [developed, broken, tmp_path / "gone"])
    catalogue = permission_catalogue(project)
    assert catalogue["loyalty-points:adjust"] == "Change a balance by hand"
    assert "loyalty-points:use" in catalogue
    assert not any(name.startswith("half-written:") for name in catalogue)  # reported by trafi dev

    (project.state_dir / "dev" / "folders.json").write_text("not json")
    assert "loyalty-points:adjust" not in permission_catalogue(project)
