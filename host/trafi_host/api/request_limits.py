"""Request limits checked before a route runs: header count and size, and body size per route.

A pure ASGI middleware (not `BaseHTTPMiddleware`, which buffers): a `Content-Length`
above the route's cap is refused before one byte of the body is read, and a body
without one (chunked) is counted as it streams and cut off at the cap, so a 100 MB
upload costs the host one chunk of memory, not 100 MB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_HEADERS = 100
MAX_HEADER_BYTES = 16 * 1024
DEFAULT_MAX_BODY_BYTES = 64 * 1024
"""Every route without its own cap (the commerce API: its largest order is about 30 KB of JSON)."""


@dataclass(frozen=True)
class BodyLimit:
    """The most body bytes a request may send, and whose limit it is (named in the 413)."""

    max_bytes: int
    whose: str | None = None

    def refusal(self) -> JSONResponse:
        of = f", the limit of {self.whose}" if self.whose else ""
        return _error(413, f"request body larger than {self.max_bytes} bytes{of}")


@dataclass(frozen=True)
class BodyCap:
    """Requests whose path starts with `prefix` may send up to `limit` of body: a number, or
    what the request's scope decides (a module's world, known only once its name is read)."""

    prefix: str
    limit: int | Callable[[Scope], BodyLimit]

    def limit_of(self, scope: Scope) -> BodyLimit:
        return BodyLimit(self.limit) if isinstance(self.limit, int) else self.limit(scope)


class _BodyTooLarge(Exception):
    """Raised into the app by `receive` when the streamed body passes the cap."""


def _error(status: int, message: str, **detail: object) -> JSONResponse:
    return JSONResponse({"error": message, **detail}, status_code=status)


class RequestLimits:
    def __init__(
        self,
        app: ASGIApp,
        body_caps: Sequence[BodyCap] = (),
        default_max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_headers: int = MAX_HEADERS,
        max_header_bytes: int = MAX_HEADER_BYTES,
    ) -> None:
        if default_max_body_bytes < 0 or max_headers < 1 or max_header_bytes < 1:
            raise ValueError("request limits must be positive")
        self.app = app
        # Longest prefix first: the most specific cap wins.
        self.body_caps = sorted(body_caps, key=lambda cap: len(cap.prefix), reverse=True)
        self.default_max_body_bytes = default_max_body_bytes
        self.max_headers = max_headers
        self.max_header_bytes = max_header_bytes

    def body_limit(self, scope: Scope) -> BodyLimit:
        for cap in self.body_caps:
            if scope["path"].startswith(cap.prefix):
                return cap.limit_of(scope)
        return BodyLimit(self.default_max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.body_limit(scope)
        refusal = self._refusal_from_headers(scope, limit)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self._stream_with_cap(scope, receive, send, limit)

    def _refusal_from_headers(self, scope: Scope, limit: BodyLimit) -> JSONResponse | None:
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if len(headers) > self.max_headers:
            return _error(431, f"more than {self.max_headers} request headers")
        size = sum(len(name) + len(value) for name, value in headers)
        if size > self.max_header_bytes:
            return _error(431, f"request headers larger than {self.max_header_bytes} bytes")
        lengths = {value for name, value in headers if name == b"content-length"}
        if not lengths:
            return None
        (length, *others) = lengths
        if others or not length.isdigit():
            return _error(400, "invalid Content-Length header")
        if int(length) > limit.max_bytes:
            return limit.refusal()
        return None

    async def _stream_with_cap(self, scope: Scope, receive: Receive, send: Send, limit: BodyLimit) -> None:
        received = 0
        refused = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    refused = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            # Once the body is refused the 413 is the answer; whatever the app makes of
            # the interrupted read (a 400 from FastAPI's body parser) is dropped.
            if refused and not started:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _BodyTooLarge:
            pass
        except Exception:
            if not refused:
                raise
        if refused and not started:
            await limit.refusal()(scope, receive, send)
