"""What rendering a module's dashboard view gives back (`ModuleRuntime.call_view`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ViewResult:
    """`ok`: `text` is the view's UI tree as JSON text; else `text` is why there is none.

    `failure` says whose the failure is when the host, not the module's `render`, produced
    the answer: `no-view` (not declared), `overload` (the host could not run it in time),
    `deadline` (the module's own code ran to it), a trap kind (`trap`, `memory`...), or
    `init-failed`. None when the module answered, its own error message included.
    """

    ok: bool
    text: str
    failure: str | None = None
