"""`GET /dev/events`: server-sent events announcing reloads and errors (only in `trafi dev`).

Unauthenticated like the rest of the dev loop's tooling: `trafi dev` listens on
127.0.0.1 by default. A client that reconnects with `Last-Event-ID` gets what
it missed first. A comment line (`: connected`) is sent at once, so a client
knows it is subscribed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from .event_stream import DevEventStream

KEEPALIVE_SECONDS = 15.0


def dev_router(events: DevEventStream) -> APIRouter:
    router = APIRouter()

    @router.get("/dev/events", summary="Reloads and errors of the modules under development (SSE)")
    async def dev_events(request: Request) -> StreamingResponse:
        last = request.headers.get("last-event-id", "")

        async def stream() -> AsyncIterator[str]:
            with events.subscribe() as queue:
                yield ": connected\n\n"
                seen = 0
                if last.isdigit():
                    for event in events.since(int(last)):
                        seen = event.id
                        yield event.sse()
                while not await request.is_disconnected():
                    try:
                        event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                    except TimeoutError:
                        yield ": keepalive\n\n"
                        continue
                    if event.id > seen:
                        yield event.sse()

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return router
