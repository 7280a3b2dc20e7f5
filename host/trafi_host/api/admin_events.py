"""`GET /api/admin/events`: server-sent events of module state changes, for the dashboard's nav.

Any signed-in caller may listen, and hears of the modules it may know of: all of
them with `modules:read`, else those it holds a permission of (a caller without
any learns nothing of a module, as from the module routes). A comment line
(`: connected`) is sent at once, so a client knows it is subscribed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from ..auth.caller import Caller
from ..auth.permissions import ALL
from .auth import authenticate, module_host

router = APIRouter(tags=["dashboard"])
KEEPALIVE_SECONDS = 15.0


@router.get(
    "/api/admin/events",
    summary="Module state changes (enabled, disabled, failed, quarantined, removed) as server-sent events",
    response_class=StreamingResponse,
    # Out of the OpenAPI document: a stream never ends, so a client generated from it (or the
    # schema fuzzer) would wait forever; the dashboard is its one client.
    include_in_schema=False,
    responses={200: {"content": {"text/event-stream": {}}}, 401: {}},
)
async def admin_events(request: Request, caller: Caller = Depends(authenticate)) -> StreamingResponse:
    feed = module_host(request).state_feed
    everything = caller.allows("modules:read")

    def may_know(module: str) -> bool:
        return everything or any(grant == ALL or grant.split(":")[0] == module for grant in caller.grants)

    async def stream() -> AsyncIterator[str]:
        with feed.subscribe() as queue:
            yield ": connected\n\n"
            while not await request.is_disconnected():
                try:
                    change = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if may_know(change.module):
                    yield change.sse()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
