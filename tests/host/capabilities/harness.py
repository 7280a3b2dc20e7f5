"""Calling one capability's host functions directly, as an instance's call would.

The state comes from the capability's own `prepare`, so a test exercises the
same grant checks a guest meets, without building a component.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from trafi_host.capabilities.base import Capability, InstanceFacts, ServiceCaller
from trafi_host.capabilities.call import CallContext, bind_call
from trafi_host.manifest.model import Permissions


def call_host_function(
    capability: Capability[Any],
    function: Callable[..., Any],
    *args: Any,
    permissions: Permissions | None = None,
    module: str = "listener",
    tenant: str = "acme",
    folder: Path = Path("."),
    config: Mapping[str, Any] | None = None,
    dependencies: frozenset[str] = frozenset(),
    services: ServiceCaller | None = None,
    denied: list[str] | None = None,
) -> Any:
    facts = InstanceFacts(
        module=module,
        version="1.0.0",
        tenant=tenant,
        folder=folder,
        data_root=None,
        config=config or {},
        env={},
        permissions=permissions or Permissions(),
        dependencies=dependencies,
        services=services,
    )
    context = CallContext(
        module,
        tenant,
        states={capability.name: capability.prepare(facts)},
        on_denied=denied.append if denied is not None else None,
    )
    with bind_call(context):
        return function(*args)
