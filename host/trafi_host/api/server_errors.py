"""The last line: an exception no route handled becomes a JSON error, never a plain-text 500.

SQLite still locked after the commerce core's retries (or anywhere else) is a 503 with
`Retry-After`; anything else is a 500 with a request id, logged with its traceback
under the same id so that an operator can find it from the client's report.
"""

from __future__ import annotations

import logging
import uuid

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..db import DatabaseBusy, is_database_busy

log = logging.getLogger("trafi.api")


class JsonServerErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as error:
            if started:
                raise  # the status line is out; the server logs it and closes the connection
            await _answer(scope, error)(scope, receive, send)


def _answer(scope: Scope, error: Exception) -> JSONResponse:
    request_id = uuid.uuid4().hex[:12]
    where = f"{scope.get('method', '?')} {scope.get('path', '?')}"
    headers = {"X-Request-Id": request_id}
    if isinstance(error, DatabaseBusy) or is_database_busy(error):
        retry_after = DatabaseBusy.retry_after_seconds
        log.warning("%s: database busy, answered 503 (request id %s): %s", where, request_id, error)
        return JSONResponse(
            {"error": "the database is busy; try again shortly", "requestId": request_id},
            status_code=503,
            headers={**headers, "Retry-After": str(retry_after)},
        )
    log.error("%s: unhandled %s (request id %s)", where, type(error).__name__, request_id, exc_info=error)
    return JSONResponse(
        {"error": "internal server error", "requestId": request_id}, status_code=500, headers=headers
    )
