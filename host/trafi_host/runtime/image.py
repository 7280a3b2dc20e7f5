"""A loaded module version: manifest, compiled component and the limits in force."""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wasmtime import component as wc

from ..manifest.model import Manifest, Permissions
from ..permissions import effective
from .body_caps import ONE_COPY_DEFAULT, BodyCaps
from .declarations import NOTHING_DECLARED, Declarations, ModuleOffer
from .dev_code import DevCode
from .world import WorldAdapter, world_for


@dataclass(frozen=True)
class HostLimits:
    """The host's maxima: a manifest may ask for less, never more."""

    max_memory_mb: int = 256
    max_timeout_ms: int = 10_000
    max_instances_per_tenant: int = 8
    max_live_instances: int = 512
    # Body caps of a world whose bodies cross as one copy (0.3.0); an older world's are lower
    # still, fixed by its body type (runtime/body_caps.py).
    max_request_bytes: int = ONE_COPY_DEFAULT.request
    max_response_bytes: int = ONE_COPY_DEFAULT.response
    # Optional CPU budget per call in wasmtime fuel units (~1,800 per guest loop
    # iteration); None: only the wall-clock deadline. Fuel slows guest code ~46%.
    fuel_per_call: int | None = None
    # Worker threads left blocked in a WASI call by abandoned calls (each replaced by a new
    # thread); past this a module that blocks one more is quarantined (runtime/worker_threads.py).
    max_abandoned_threads: int = 4


@dataclass(frozen=True)
class ModuleImage:
    manifest: Manifest
    component: wc.Component
    digest: str
    folder: Path
    config: Mapping[str, Any] = field(default_factory=dict)
    host_limits: HostLimits = field(default_factory=HostLimits)
    # Operator-supplied values; only names the manifest grants ever reach the guest.
    env: Mapping[str, str] = field(default_factory=dict)
    # Where per-tenant writable folders (permissions.fs.write) live; None: no write grants.
    data_root: Path | None = None
    # What the operator granted; None: the manifest's permissions (a module not installed).
    granted: Permissions | None = None
    # The services the module offers, read from it when it starts.
    service_names: tuple[str, ...] = ()
    # Routes and views the module declares (world 0.3.0+), read from it when it starts.
    declarations: Declarations = NOTHING_DECLARED
    # Under `trafi dev` only: the source the dev runtime component imports (None: a built module).
    dev_code: DevCode | None = None
    # This load of the module: instances are pooled per load, so that a swap to another version
    # (or the same component with other config or grants) never reuses the old one's instances.
    load_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def offering(self, offer: ModuleOffer) -> ModuleImage:
        """This load with what the module offers (read by a trial start or a prestart)."""
        return dataclasses.replace(self, service_names=offer.service_names, declarations=offer.declarations)

    @property
    def grants(self) -> Permissions:
        return effective(self.manifest.permissions, self.granted)

    @property
    def world(self) -> WorldAdapter:
        world = world_for(self.manifest.wit_version)
        # The manifest model admits supported worlds only.
        assert world is not None, self.manifest.world
        return world

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def memory_bytes(self) -> int:
        return min(self.manifest.limits.memory_mb, self.host_limits.max_memory_mb) << 20

    @property
    def timeout_ms(self) -> int:
        return min(self.manifest.limits.timeout_ms, self.host_limits.max_timeout_ms)

    @functools.cached_property  # asked twice per request (the body's limit, then the proxy's check)
    def body_caps(self) -> BodyCaps:
        """The operator's body caps, within what this module's world carries in one call."""
        configured = BodyCaps(self.host_limits.max_request_bytes, self.host_limits.max_response_bytes)
        return configured.within(self.world.body_ceiling)

    @property
    def instances_per_tenant(self) -> int:
        return min(self.manifest.limits.instances_per_tenant, self.host_limits.max_instances_per_tenant)
