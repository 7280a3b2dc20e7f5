"""How large a module's HTTP request and response bodies may be: per world, since each world's
body type crosses the component boundary at a different cost.

Worlds 0.1 and 0.2 carry a body as `list<u8>`: wasmtime-py lifts and lowers it as one
component value per byte, and wasmtime caps what a single call may make the host allocate
(its hostcall fuel, 128 MiB, not settable through the C API): measured, a body of about
2 MiB is where it traps ("fuel allocated for hostcalls has been exhausted"; 2 MiB itself
crosses on some calls and not others). Their caps stay below it, whatever the operator
configures, so a module meets a clear limit, not a trap.

World 0.3.0 carries a body as `bytes`, a string that crosses as one copy
(docs/performance.md, "Bodies in world 0.3.0"): its caps are the operator's
(`host.maxRequestBytes`, `host.maxResponseBytes`), 8 MiB each by default.
"""

from __future__ import annotations

from dataclasses import dataclass

# The most a `list<u8>` response body may be (below the ~2 MiB trap).
BOUNDARY_BYTES = 1536 << 10


@dataclass(frozen=True)
class BodyCaps:
    """The most bytes a request may send to a module, and a module may answer."""

    request: int
    response: int

    def within(self, ceiling: BodyCaps | None) -> BodyCaps:
        """These caps, lowered to `ceiling` where it is smaller (None: no ceiling)."""
        if ceiling is None:
            return self
        return BodyCaps(min(self.request, ceiling.request), min(self.response, ceiling.response))


# Worlds 0.1 and 0.2: the request cap the API always had, the response cap of the boundary.
LIST_U8_CEILING = BodyCaps(request=1 << 20, response=BOUNDARY_BYTES)
# World 0.3.0, unless the operator says otherwise.
ONE_COPY_DEFAULT = BodyCaps(request=8 << 20, response=8 << 20)
# The most the operator may allow. A body lives several times over in the module's memory (as
# UTF-8, up to twice its size, then as Python text and bytes): measured, a 16 MiB body crosses
# both ways in worldkit's 160 MiB, and a 32 MiB request runs it out of memory (a trap).
MAX_ONE_COPY_BODY_BYTES = 16 << 20
