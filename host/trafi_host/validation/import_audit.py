"""What a component imports and exports, read from wasmtime's component types, against
what its manifest grants.

The interface table is the capability registry's: an interface no capability
implements is unknown, and a capability that gates its import on a grant says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import wasmtime
from wasmtime import component as wc

from ..capabilities.fs.host import FsCapability
from ..capabilities.registry import ALL, Capabilities, by_interface
from ..manifest.model import Manifest
from ..runtime.world import SUPPORTED_WORLDS, world_for
from .findings import Finding

HARMLESS_WASI = ("wasi:io/", "wasi:clocks/", "wasi:random/", "wasi:cli/")
_INTERFACE = re.compile(r"^(?P<package>[a-z0-9-]+:[a-z0-9-]+)/(?P<name>[a-z0-9-]+)(@(?P<version>[0-9.]+))?$")


@dataclass(frozen=True)
class ComponentSurface:
    imports: tuple[str, ...]
    exports: tuple[str, ...]


def component_surface(component: wc.Component, engine: wasmtime.Engine) -> ComponentSurface:
    component_type = component.type
    return ComponentSurface(
        imports=tuple(sorted(component_type.imports(engine))),
        exports=tuple(sorted(component_type.exports(engine))),
    )


def audit_imports(
    surface: ComponentSurface, manifest: Manifest, capabilities: Capabilities = ALL
) -> list[Finding]:
    findings: list[Finding] = []
    interfaces = by_interface(capabilities)
    for name in surface.imports:
        match = _INTERFACE.match(name)
        if name.startswith("wasi:http/"):
            findings.append(Finding.of("TRF-I002", "unfiltered outgoing HTTP", subject=name))
        elif name.startswith(("wasi:sockets/", "wasi:filesystem/")):
            granted = (
                ""
                if not name.startswith("wasi:filesystem/")
                or FsCapability().grant(manifest.permissions) is None
                else (" (folders from permissions.fs only)")
            )
            findings.append(Finding.of("TRF-I004", f"linked, denied at run time{granted}", subject=name))
        elif name.startswith(HARMLESS_WASI):
            continue
        elif match and match.group("package") == "trafi:host":
            interface, version = match.group("name"), match.group("version")
            world = world_for(version)
            capability = interfaces.get(interface)
            provided = world is not None and (
                interface in world.type_interfaces
                or (capability is not None and capability.in_world(world.version))
            )
            if not provided:
                findings.append(Finding.of("TRF-I001", "not provided by this host", subject=name))
                continue
            if capability is None or not capability.gates_import or capability.granted(manifest.permissions):
                continue
            assert capability.section is not None
            rule = "TRF-I003" if capability.base_world else "TRF-I006"
            findings.append(
                Finding.of(rule, f"permissions.{capability.section.key} is not granted", subject=name)
            )
        else:
            findings.append(Finding.of("TRF-I001", "not provided by this host", subject=name))
    for required in _required_exports(manifest):
        wanted = {f"trafi:host/{required}@{world.version}" for world in SUPPORTED_WORLDS}
        if not wanted & set(surface.exports):
            findings.append(
                Finding.of(
                    "TRF-I005",
                    f"does not export trafi:host/{required} "
                    f"(exports: {', '.join(surface.exports) or 'none'})",
                    subject=f"trafi:host/{required}",
                )
            )
    return findings


def _required_exports(manifest: Manifest) -> tuple[str, ...]:
    world = world_for(manifest.wit_version) or SUPPORTED_WORLDS[0]
    return (*world.required_exports, "event-handler") if manifest.events else world.required_exports
