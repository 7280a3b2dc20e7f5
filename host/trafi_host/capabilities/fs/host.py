"""WASI file system: the module's granted asset folders read-only, and per-tenant write folders.

No trafi:host interface: the guest uses ordinary file APIs, and WASI sees only
the folders preopened here (`..` escapes are refused by wasmtime).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

import wasmtime

from ...manifest.base import PermissionsBase
from ...validation.findings import Finding
from ..base import Capability, InstanceFacts, PermissionSection
from .grant import FsPermission

if TYPE_CHECKING:
    from ...manifest.model import Manifest


@dataclass(frozen=True)
class Preopen:
    host: Path
    guest: str
    writable: bool


@dataclass(frozen=True)
class FsState:
    preopens: tuple[Preopen, ...]


class FsCapability(Capability[FsState]):
    name: ClassVar[str] = "fs"
    section: ClassVar[PermissionSection | None] = PermissionSection(
        "fs",
        FsPermission | None,
        "`read`: folders of the module's own assets (read-only); `write`: folders in the tenant's "
        "data folder (`.trafi/data/<tenant>/<module>/<path>`). Each entry a relative `path` and a "
        "`reason`; the module opens them by that relative path.",
    )
    summary: ClassVar[str] = (
        "Files through WASI: granted asset folders read-only, granted folders of the tenant's data "
        "folder read-write; nothing else."
    )

    def grant(self, permissions: PermissionsBase) -> FsPermission | None:
        return cast("FsPermission | None", super().grant(permissions))

    def permission_items(self, grant: Any) -> dict[str, str]:
        if grant is None:
            return {}
        items = {f"fs.read: {g.path}": g.reason for g in grant.read}
        items.update({f"fs.write: {g.path}": g.reason for g in grant.write})
        return items

    def configure(self, manifest: Manifest, folder: Path) -> list[Finding]:
        grant = self.grant(manifest.permissions)
        if grant is None:
            return []
        root = folder.resolve()
        findings = []
        for index, entry in enumerate(grant.read):
            target = (root / entry.path).resolve()
            if not target.is_relative_to(root):
                problem = "leaves the module folder through a link"
            elif not target.is_dir():
                problem = "is not a folder of the module"
            else:
                continue
            findings.append(
                self.grant_finding("TRF-C002", f".read[{index}].path", f"{entry.path!r} {problem}")
            )
        return findings

    def prepare(self, facts: InstanceFacts) -> FsState:
        grant = self.grant(facts.permissions)
        if grant is None:
            return FsState(())
        preopens = []
        module_root = facts.folder.resolve()
        for entry in grant.read:
            folder = (module_root / entry.path).resolve()
            if folder.is_dir() and folder.is_relative_to(module_root):
                preopens.append(Preopen(folder, entry.path, False))
        if facts.data_root is not None:
            for entry in grant.write:
                folder = facts.data_root / facts.tenant / facts.module / entry.path
                folder.mkdir(parents=True, exist_ok=True)
                preopens.append(Preopen(folder, entry.path, True))
        return FsState(tuple(preopens))

    def configure_wasi(self, wasi: wasmtime.WasiConfig, state: FsState) -> None:
        for preopen in state.preopens:
            wasi.preopen_dir(str(preopen.host), preopen.guest, preopen.writable)
