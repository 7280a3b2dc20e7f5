"""Route table: method + path pattern (`/v1/items/{id}`) to a handler."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from .http import Request, Response

Handler = Callable[[Request], Response]

_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    regex: re.Pattern[str]


def compile_pattern(pattern: str) -> re.Pattern[str]:
    if not pattern.startswith("/"):
        raise ValueError(f"route pattern {pattern!r} must start with '/'")
    parts: list[str] = []
    last = 0
    for match in _PARAM.finditer(pattern):
        parts.append(re.escape(pattern[last : match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^/]+)")
        last = match.end()
    parts.append(re.escape(pattern[last:]))
    return re.compile("^" + "".join(parts) + "$")


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append(Route(method.upper(), pattern, handler, compile_pattern(pattern)))

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(self._routes)

    def dispatch(self, request: Request) -> Response:
        allowed: list[str] = []
        for route in self._routes:
            match = route.regex.match(request.path)
            if match is None:
                continue
            if route.method != request.method.upper():
                allowed.append(route.method)
                continue
            return route.handler(replace(request, path_params=match.groupdict()))
        if allowed:
            return Response(
                405,
                (("allow", ", ".join(sorted(set(allowed)))), ("content-type", "application/json")),
                b'{"error":"method not allowed"}',
            )
        return Response.error(404, "no route", path=request.path)
