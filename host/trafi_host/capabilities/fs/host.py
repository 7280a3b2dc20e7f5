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
from ..call import CallContext
from .grant import FsPermission
from .write_folder import Sweep, sweep

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
    # The tenant's write root (`<data>/<tenant>/<module>`) and its quota; None without write grants.
    write_root: Path | None = None
    quota_bytes: int = 0


class FsCapability(Capability[FsState]):
    name: ClassVar[str] = "fs"
    section: ClassVar[PermissionSection | None] = PermissionSection(
        "fs",
        FsPermission | None,
        "`read`: folders of the module's own assets (read-only); `write`: folders in the tenant's "
        "data folder (`.trafi/data/<tenant>/<module>/<path>`). Each entry a relative `path` and a "
        "`reason`; the module opens them by that relative path. `writeQuotaMb` (default 64) caps what "
        "one tenant's write folders hold: past it they turn read-only for that tenant (an incident). "
        "Links the module makes there are removed after each call (an incident).",
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
        if facts.data_root is None or not grant.write:
            return FsState(tuple(preopens))
        root = facts.data_root / facts.tenant / facts.module
        quota = grant.write_quota_mb << 20
        # Over its quota (the last call's check retired the instance that filled it), the
        # tenant's folders open read-only: reads keep working, nothing more is written.
        writable = not _over_quota(sweep(root), quota)
        for entry in grant.write:
            folder = root / entry.path
            folder.mkdir(parents=True, exist_ok=True)
            preopens.append(Preopen(folder, entry.path, writable))
        return FsState(tuple(preopens), root, quota)

    def checks_after_calls(self, context: CallContext) -> bool:
        return self.state(context).write_root is not None

    def after_call(self, context: CallContext) -> None:
        state = self.state(context)
        if state.write_root is None:
            return
        found = sweep(state.write_root)
        if found.removed_links:
            context.denied(
                f"fs: links made in the write folder were removed: {', '.join(found.removed_links[:5])}"
            )
        writable = any(p.writable for p in state.preopens)
        over = _over_quota(found, state.quota_bytes)
        if over and writable:
            context.denied(
                f"fs: write folder over its quota ({found.bytes_used:,} of {state.quota_bytes:,} bytes, "
                f"{found.entries:,} entries): read-only for this tenant until it is back under"
            )
        # Either way the instance's folders are no longer what they should be: the next
        # instance opens them as the quota now says (read-only, or writable again).
        context.recycle = context.recycle or over == writable

    def configure_wasi(self, wasi: wasmtime.WasiConfig, state: FsState) -> None:
        for preopen in state.preopens:
            wasi.preopen_dir(str(preopen.host), preopen.guest, preopen.writable)


def _over_quota(found: Sweep, quota: int) -> bool:
    return found.too_many_entries or found.bytes_used > quota
