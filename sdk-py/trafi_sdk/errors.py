"""Errors the host returns to a module, as Python exceptions."""

from __future__ import annotations


class HostError(Exception):
    """A host function refused or failed; the message says why."""


class AccessDenied(HostError):
    """The manifest does not grant this, or the operator did not approve it."""


class NotFound(HostError):
    """The thing asked for does not exist (a key, a row, a service)."""


class InvalidArgument(HostError):
    """The host refused the arguments (too large, malformed)."""


class LimitExceeded(HostError):
    """A quota or size limit was reached."""


class Unavailable(HostError):
    """The backing service failed; retrying may work."""


class NotInComponent(HostError):
    """A host import was called outside a built component (plain CPython)."""


_BY_CASE: dict[str, type[HostError]] = {
    "HostError_AccessDenied": AccessDenied,
    "HostError_NotFound": NotFound,
    "HostError_InvalidArgument": InvalidArgument,
    "HostError_LimitExceeded": LimitExceeded,
    "HostError_Unavailable": Unavailable,
}


def from_wit(value: object) -> HostError:
    """Turn a generated `HostError_*` case into the matching exception."""
    cls = _BY_CASE.get(type(value).__name__, HostError)
    return cls(str(getattr(value, "value", value)))
