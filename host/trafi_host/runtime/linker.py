"""The component Linker: WASI (confined per store) plus every capability's host functions."""

from __future__ import annotations

from collections.abc import Iterable

import wasmtime
from wasmtime import component as wc

from ..capabilities.base import Capability, interface_id


def build_linker(engine: wasmtime.Engine, capabilities: Iterable[Capability]) -> wc.Linker:
    linker = wc.Linker(engine)
    # WASI itself is linked, but each store's WasiConfig grants nothing by
    # default: no env, no preopens, no sockets.
    linker.add_wasip2()
    with linker.root() as root:
        for capability in capabilities:
            with root.add_instance(interface_id(capability)) as instance:
                for name, function in capability.functions().items():
                    instance.add_func(name, function)
    return linker
