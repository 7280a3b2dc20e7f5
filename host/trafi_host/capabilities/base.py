"""The shape every capability has, after Spin's factors: declare, configure, prepare, link.

A capability is one unit with one folder (`capabilities/<name>/`): the manifest
section it owns under `permissions` (its grant model), `configure` (checks of
the grant against the module, run alone by `trafi module validate`), `prepare`
(the typed per-instance state its host functions read: what was granted, for
whom) and its host functions (linked once into the component Linker). The
registry (`capabilities.registry.ALL`) lists them in order and is the single
source for the manifest's permissions model, the permission listing, the import
audit, `trafi module inspect`, the docs table and linking.
"""

from __future__ import annotations

import functools
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, cast

import wasmtime
from wasmtime import component as wc

from ..manifest.base import PermissionsBase
from ..settings import trace_hostcalls_enabled
from ..validation.findings import Finding
from .call import CallContext, current_call

if TYPE_CHECKING:
    from ..manifest.model import Manifest

trace_log = logging.getLogger("trafi.hostcalls")
# Read once, at import: a debugging switch, checked on every host call.
TRACE_HOSTCALLS = trace_hostcalls_enabled()

StateT = TypeVar("StateT")
HostFunction = Callable[..., Any]


class ServiceFailure(Exception):
    """Raised by a service caller: `case` is the host-error case the calling module gets."""

    def __init__(self, case: str, message: str) -> None:
        super().__init__(message)
        self.case = case


class ServiceCaller(Protocol):
    """What runs another module's service for a caller (the runtime, which owns the instances).

    Raises `ServiceFailure` for what the calling module should be told.
    """

    def call_service(
        self, caller: CallContext, module: str, service: str, method: str, payload: str, deadline: float
    ) -> str: ...


@dataclass(frozen=True)
class PermissionSection:
    """The key a capability owns under the manifest's `permissions`, and its model."""

    key: str  # the attribute name; the JSON key is its camelCase alias
    annotation: Any  # e.g. `KvGrant | None`, `list[NetworkGrant]`
    description: str
    default_factory: Callable[[], Any] | None = None  # None: the key defaults to null


@dataclass(frozen=True)
class InstanceFacts:
    """Who an instance is for and what it was granted: what `prepare` builds state from."""

    module: str
    version: str
    tenant: str
    folder: Path  # the installed module folder (its read-only assets)
    data_root: Path | None  # where per-tenant writable folders live; None: nowhere
    config: Mapping[str, Any]
    env: Mapping[str, str]  # operator-supplied values; only granted names reach the guest
    permissions: PermissionsBase  # what the operator granted (enforced), not the manifest file
    dependencies: frozenset[str]
    services: ServiceCaller | None = None


class Capability(ABC, Generic[StateT]):
    """One host capability. Subclasses set the class attributes and implement `prepare`."""

    name: ClassVar[str]
    # The trafi:host interface it implements, without version; None for a WASI part (fs, env).
    interface: ClassVar[str | None] = None
    section: ClassVar[PermissionSection | None] = None
    # True: importing the interface without the section granted is a blocking finding
    # unless every component of the world links it anyway (`base_world`).
    gates_import: ClassVar[bool] = False
    # componentize-py links every import of the world a module is built for: a module
    # that does not use an interface of the base world still imports it.
    base_world: ClassVar[bool] = True
    # One line for the docs' capability table: what a module gets from it.
    summary: ClassVar[str]
    # The first world version whose modules can import it: older worlds never link it.
    since: ClassVar[str] = "0.1.0"

    def in_world(self, version: str) -> bool:
        return _version_key(version) >= _version_key(self.since)

    def grant(self, permissions: PermissionsBase) -> Any:
        """This capability's section of a permissions object (None/empty when not asked for)."""
        if self.section is None:
            return None
        return getattr(permissions, self.section.key)

    def granted(self, permissions: PermissionsBase) -> bool:
        return bool(self.grant(permissions))

    def permission_items(self, grant: Any) -> dict[str, str]:
        """Each thing granted as `kind: what`, with its reason: what operators approve."""
        return {}

    def configure(self, manifest: Manifest, folder: Path) -> list[Finding]:
        """Checks of the grant against the module (a folder that does not exist...)."""
        return []

    def grant_finding(self, rule: str, where: str, message: str) -> Finding:
        """A finding about this capability's section: `where` follows `permissions.<key>`."""
        assert self.section is not None, f"capability {self.name} has no manifest section"
        key = f"permissions.{self.section.key}"
        return Finding.of(rule, f"{key}{where} {message}", subject=key)

    @abstractmethod
    def prepare(self, facts: InstanceFacts) -> StateT:
        """The per-instance state the host functions read through `CallContext.state`."""

    def functions(self) -> dict[str, HostFunction]:
        """WIT function name to host implementation (`store` first, then WIT params)."""
        return {}

    def functions_for(self, version: str) -> dict[str, HostFunction]:
        """The host functions linked for world `version`: `functions()` unless a world changed
        the interface's shapes (world 0.3.0 carries kv values and http bodies as `bytes`
        strings), where the capability converts at this edge and keeps one implementation."""
        return self.functions()

    def configure_wasi(self, wasi: wasmtime.WasiConfig, state: StateT) -> None:
        """What this capability adds to the instance's WASI configuration (fs, env)."""
        return None

    def after_call(self, context: CallContext) -> None:
        """Checks after each guest call, for what the guest did without a host call (WASI
        writes). Set `context.recycle` to retire the instance; `context.denied` is an incident."""
        return None

    def checks_after_calls(self, context: CallContext) -> bool:
        """Whether the calls of the instance `context` belongs to need `after_call`: checked once
        per instance, as the check would otherwise run on every call."""
        return type(self).after_call is not Capability.after_call

    def state(self, context: CallContext) -> StateT:
        """This capability's state in the current call."""
        return cast(StateT, context.state_of(self.name))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def interface_id(interface: str, version: str) -> str:
    return f"{interface}@{version}"


def host_error(case: str, message: str) -> wc.Variant:
    """A WIT `host-error` value; returned, never raised, so the guest is not trapped."""
    return wc.Variant(case, message)


def hostcall(name: str, *, returns_result: bool) -> Callable[[Callable[..., Any]], HostFunction]:
    """Wrap a host function: count it, trace it, and turn a host bug into `unavailable`.

    An exception escaping into wasmtime would trap the guest and poison the
    instance; a host-side failure is the host's problem, so it becomes an error
    value when the WIT signature has one, and a logged no-op otherwise.
    """

    def wrap(function: Callable[..., Any]) -> HostFunction:
        @functools.wraps(function)
        def call(store: Any, *args: Any) -> Any:
            context = current_call()
            if TRACE_HOSTCALLS:
                trace_log.info(
                    "hostcall %s module=%s tenant=%s args=%r",
                    name,
                    context.module,
                    context.tenant_id,
                    [a if not isinstance(a, bytes | bytearray) else f"<{len(a)} bytes>" for a in args],
                )
            try:
                return function(*args)
            except Exception as error:
                logging.getLogger("trafi.hostcalls").exception(
                    "host function %s failed for module %s", name, context.module
                )
                if returns_result:
                    return host_error("unavailable", f"{name}: {type(error).__name__}")
                return None

        return call

    return wrap


def granted_or_denied(
    context: CallContext, granted: bool, capability: str, message: str
) -> wc.Variant | None:
    """None when granted; else the `access-denied` value, after telling the incident monitor."""
    if granted:
        return None
    context.denied(f"{capability}: {message}")
    return host_error("access-denied", message)


__all__ = [
    "Capability",
    "HostFunction",
    "InstanceFacts",
    "PermissionSection",
    "ServiceCaller",
    "ServiceFailure",
    "granted_or_denied",
    "host_error",
    "hostcall",
    "interface_id",
]
