"""What a component imports and exports, read from wasmtime's component types, against
what its manifest grants."""

from __future__ import annotations

import re
from dataclasses import dataclass

import wasmtime
from wasmtime import component as wc

from ..manifest.model import Manifest
from ..version import SUPPORTED_WIT_VERSIONS
from .findings import Finding

# trafi:host interfaces and the permission each needs (None: always granted).
HOST_INTERFACES: dict[str, str | None] = {
    "types": None,
    "log": None,
    "config": None,
    "kv": "kv",
    "service-client": None,
    "events": None,
    "commerce": None,  # each function checks its permissions.core scope when called
    "http": "network",
}
# Imports every module of the world has (componentize-py links all world imports):
# ungranted, they are a warning; any other ungranted import blocks.
BASE_WORLD_INTERFACES = {"types", "log", "config", "kv", "service-client", "events", "commerce"}
HARMLESS_WASI = ("wasi:io/", "wasi:clocks/", "wasi:random/", "wasi:cli/")
REQUIRED_EXPORTS = ("lifecycle", "http-handler")
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


def _granted(manifest: Manifest, permission: str) -> bool:
    return bool(getattr(manifest.permissions, permission))


def audit_imports(surface: ComponentSurface, manifest: Manifest) -> list[Finding]:
    findings: list[Finding] = []
    for name in surface.imports:
        match = _INTERFACE.match(name)
        if name.startswith("wasi:http/"):
            findings.append(Finding.of("TRF-I002", "unfiltered outgoing HTTP", subject=name))
        elif name.startswith(("wasi:sockets/", "wasi:filesystem/")):
            granted = (
                ""
                if not name.startswith("wasi:filesystem/") or manifest.permissions.fs is None
                else (" (folders from permissions.fs only)")
            )
            findings.append(Finding.of("TRF-I004", f"linked, denied at run time{granted}", subject=name))
        elif name.startswith(HARMLESS_WASI):
            continue
        elif match and match.group("package") == "trafi:host":
            interface, version = match.group("name"), match.group("version")
            if version not in SUPPORTED_WIT_VERSIONS or interface not in HOST_INTERFACES:
                findings.append(Finding.of("TRF-I001", "not provided by this host", subject=name))
                continue
            permission = HOST_INTERFACES[interface]
            if permission is not None and not _granted(manifest, permission):
                rule = "TRF-I003" if interface in BASE_WORLD_INTERFACES else "TRF-I006"
                findings.append(Finding.of(rule, f"permissions.{permission} is not granted", subject=name))
        else:
            findings.append(Finding.of("TRF-I001", "not provided by this host", subject=name))
    required_exports = (*REQUIRED_EXPORTS, "event-handler") if manifest.events else REQUIRED_EXPORTS
    for required in required_exports:
        wanted = {f"trafi:host/{required}@{version}" for version in SUPPORTED_WIT_VERSIONS}
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
