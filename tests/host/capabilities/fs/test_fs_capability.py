"""`permissions.fs`: folders checked against the module, and only granted folders preopened."""

from __future__ import annotations

from pathlib import Path

from tests.host.capabilities.grant_checks import manifest_with
from trafi_host.capabilities.base import InstanceFacts
from trafi_host.capabilities.fs.host import FsCapability, Preopen


def grant(read: list[str], write: list[str] = []) -> dict[str, object]:  # noqa: B006 - read only
    return {
        "fs": {
            "read": [{"path": p, "reason": "Ships assets."} for p in read],
            "write": [{"path": p, "reason": "Writes exports."} for p in write],
        }
    }


def test_a_read_grant_naming_no_folder_of_the_module_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "outside").symlink_to(tmp_path.parent)
    findings = FsCapability().configure(manifest_with(grant(["assets", "missing", "outside"])), tmp_path)
    assert [(f.rule, f.message) for f in findings] == [
        ("TRF-C002", "permissions.fs.read[1].path 'missing' is not a folder of the module"),
        ("TRF-C002", "permissions.fs.read[2].path 'outside' leaves the module folder through a link"),
    ]


def test_only_granted_folders_are_preopened(tmp_path: Path) -> None:
    module = tmp_path / "module"
    (module / "assets").mkdir(parents=True)
    (module / "secrets").mkdir()
    manifest = manifest_with(grant(["assets"], ["exports"]))
    facts = InstanceFacts(
        module="shop-sync",
        version="1.0.0",
        tenant="acme",
        folder=module,
        data_root=tmp_path / "data",
        config={},
        env={},
        permissions=manifest.permissions,
        dependencies=frozenset(),
    )
    state = FsCapability().prepare(facts)
    assert state.preopens == (
        Preopen(module.resolve() / "assets", "assets", False),
        Preopen(tmp_path / "data" / "acme" / "shop-sync" / "exports", "exports", True),
    )
    assert (tmp_path / "data" / "acme" / "shop-sync" / "exports").is_dir()
