"""The component Linker: WASI (confined per store) plus every capability's host functions,
linked once per world version this host serves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import wasmtime
from wasmtime import component as wc

from ..capabilities.base import Capability, interface_id
from .call_timing import timed_host_function
from .native.calls import NativeCalls
from .world import SUPPORTED_WORLDS


def build_linker(
    engine: wasmtime.Engine, capabilities: Iterable[Capability[Any]], native: NativeCalls | None = None
) -> wc.Linker:
    """`native`: host functions called through the C boundary (else through wasmtime-py's)."""
    linker = wc.Linker(engine)
    # WASI itself is linked, but each store's WasiConfig grants nothing unless a
    # capability adds it (fs preopens, env): no sockets ever.
    linker.add_wasip2()
    linked = [c for c in capabilities if c.interface is not None]
    with linker.root() as root:
        for world in SUPPORTED_WORLDS:
            for capability in (c for c in linked if c.in_world(world.version)):
                assert capability.interface is not None
                with root.add_instance(interface_id(capability.interface, world.version)) as instance:
                    for name, function in capability.functions_for(world.version).items():
                        # Timed: what a host function takes is the host's time, not the guest's.
                        if native is not None:
                            native.add_import(instance, name, timed_host_function(function))
                        else:
                            instance.add_func(name, timed_host_function(function))
    return linker
