"""The ordered list of capabilities, and everything derived from it.

`ALL` is the single source for the manifest's `permissions` model, the
permission listing operators approve, the import audit's interface table,
`trafi module inspect`, the docs' tables and linking. Each function takes the
capability list as an argument (default `ALL`), so a host, or a test, composes
another list and gets all of those consistently.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from pydantic import Field, create_model

from ..manifest.base import PermissionsBase
from .base import Capability
from .commerce.host import CommerceCapability
from .commerce.service_types import CommerceCore
from .config.host import ConfigCapability
from .db.host import DbCapability, ModuleDatabase
from .env.host import EnvCapability
from .events.host import EventsCapability, EventSink
from .fs.host import FsCapability
from .http.host import HttpCapability
from .kv.backend import KvBackend
from .kv.host import KvCapability
from .log.host import LogCapability
from .metrics.host import MetricsCapability
from .metrics.store import MetricsStore
from .services.host import ServiceClientCapability

Capabilities = Sequence[Capability[Any]]


def host_capabilities(
    kv: KvBackend | None = None,
    core: CommerceCore | None = None,
    events: EventSink | None = None,
    db: ModuleDatabase | None = None,
    *,
    metrics: MetricsStore | None = None,
) -> tuple[Capability[Any], ...]:
    """Every capability this host offers, in link order, with the host services they reach.

    A capability whose service is not given answers its calls with `unavailable`
    (validation and inspection need none).
    """
    return (
        LogCapability(),
        ConfigCapability(),
        KvCapability(kv),
        FsCapability(),
        HttpCapability(),
        EnvCapability(),
        ServiceClientCapability(),
        EventsCapability(events),
        CommerceCapability(core),
        DbCapability(db),
        MetricsCapability(metrics),
    )


ALL: tuple[Capability[Any], ...] = host_capabilities()


CapabilityKey = tuple[tuple[str, type[Capability[Any]]], ...]


def _key(capabilities: Capabilities) -> CapabilityKey:
    return tuple((c.name, type(c)) for c in capabilities)


@functools.cache
def _permissions_model(key: CapabilityKey) -> type[PermissionsBase]:
    fields: dict[str, Any] = {}
    for _, kind in key:
        section = kind.section
        if section is None:
            continue
        if section.key in fields:
            raise ValueError(f"two capabilities own permissions.{section.key}")
        if section.default_factory is not None:
            default = Field(default_factory=section.default_factory, description=section.description)
        else:
            default = Field(default=None, description=section.description)
        fields[section.key] = (section.annotation, default)
    return create_model("Permissions", __base__=PermissionsBase, __doc__=PermissionsBase.__doc__, **fields)


def permissions_model(capabilities: Capabilities = ALL) -> type[PermissionsBase]:
    """The manifest's `permissions` section: one key per capability that has one."""
    return _permissions_model(_key(capabilities))


def permission_items(permissions: PermissionsBase, capabilities: Capabilities = ALL) -> dict[str, str]:
    """Each grant as `kind: what` with its reason, in registry order."""
    items: dict[str, str] = {}
    for capability in capabilities:
        if capability.section is not None:
            items.update(capability.permission_items(capability.grant(permissions)))
    return items


def by_interface(capabilities: Capabilities = ALL) -> dict[str, Capability[Any]]:
    """trafi:host interface name (without package or version) to its capability."""
    return {
        capability.interface.split("/", 1)[1]: capability
        for capability in capabilities
        if capability.interface is not None
    }


def missing(wanted: Sequence[str], capabilities: Capabilities) -> list[str]:
    """Names in `wanted` that no capability in the list has: what a composition forgot."""
    present = {capability.name for capability in capabilities}
    return [name for name in wanted if name not in present]
