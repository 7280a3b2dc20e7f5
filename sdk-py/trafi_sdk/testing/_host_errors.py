"""The host's refusals as the generated bindings deliver them: a `WitErr` around a `HostError_*` case.

The SDK turns them into `trafi_sdk` exceptions (`errors.from_wit`) exactly as in a
component, so a module's `except NotFound:` is exercised by its tests too.
"""

from __future__ import annotations

from .. import _bindings


class _Case:
    def __init__(self, value: str) -> None:
        self.value = value


class HostError_AccessDenied(_Case):
    pass


class HostError_NotFound(_Case):
    pass


class HostError_InvalidArgument(_Case):
    pass


class HostError_LimitExceeded(_Case):
    pass


class HostError_Unavailable(_Case):
    pass


_CASES: dict[str, type[_Case]] = {
    "access-denied": HostError_AccessDenied,
    "not-found": HostError_NotFound,
    "invalid-argument": HostError_InvalidArgument,
    "limit-exceeded": HostError_LimitExceeded,
    "unavailable": HostError_Unavailable,
}


def refuse(case: str, message: str) -> _bindings.WitErr:
    """The exception a host function raises in the guest: `raise refuse("not-found", "...")`."""
    error = _bindings.WitErr(message)
    error.value = _CASES[case](message)
    return error
