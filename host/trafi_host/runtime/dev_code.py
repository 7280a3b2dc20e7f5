"""What an instance of the dev runtime component needs: the module's source, preopened read-only.

Under `trafi dev` a module is not built: every image of it is the dev runtime
component (one per WIT world, `trafi_host.dev.runtime_component`) plus the
folder of the version it serves, which the guest imports when an instance
starts. Only a runtime made for dev (`ModuleRuntime(dev=True)`) starts such an
image: `trafi serve` refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import wasmtime

# The guest side: trafi_sdk.dev_guest (same paths).
GUEST_SOURCE_ROOT = "/trafi-dev"
GUEST_VENDOR_ROOT = "/trafi-dev-vendor"
# The reserved service name the dev guest answers with `snapshot` and `restore`.
RELOAD_SERVICE = "__trafi_reload__"


@dataclass(frozen=True)
class DevCode:
    # The staged copy of the version served: entry.json and src/ (never the author's live folder,
    # so that an instance started later still gets this version's code).
    staged: Path
    # The module's pure-Python requirements, installed for the guest; None without requirements.
    vendor: Path | None = None
    # Tenant -> the old code's snapshot (JSON), handed to each new instance's `restore`.
    restore: Mapping[str, str] = field(default_factory=dict)

    def configure_wasi(self, wasi: wasmtime.WasiConfig) -> None:
        wasi.preopen_dir(str(self.staged), GUEST_SOURCE_ROOT, False)
        if self.vendor is not None:
            wasi.preopen_dir(str(self.vendor), GUEST_VENDOR_ROOT, False)
