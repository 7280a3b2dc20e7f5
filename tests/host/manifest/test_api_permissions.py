"""`apiPermissions`: a module declares its own `<module>:<action>` permissions, nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from tests.host.manifest.test_manifest import VALID, problems
from trafi_host.manifest.load import parse_manifest
from trafi_host.permission_catalogue import module_permissions


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
