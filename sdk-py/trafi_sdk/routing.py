"""Route table: method + path pattern (`/v1/items/{id}`) to a handler, and what each declares.

When several patterns match a path, the most specific wins, whatever the order
they were added in: compared segment by segment from the left, a literal
segment beats one mixing text and a parameter (`{name}.json`), which beats a
bare parameter; between equals, the first added. The host resolves a request to
a declared route by the same order before it checks the route's permission
(`trafi_host/module_routes/pattern.py`), so the handler that runs is the route
the host checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .http import Request, Response
from .typed_handlers import Handler, adapt

_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
_VERSION = re.compile(r"^v[0-9]+$")


@dataclass(frozen=True)
class RouteDeclaration:
    """One route as the `routes` export declares it to the host (world 0.3.0+).

    `version` is the first path segment when it is `v<number>`, else empty;
    `permission` a name the manifest declares in `apiPermissions`, without the
    module prefix (None: the module's base permission); the schemas are JSON
    Schema 2020-12, derived from the handler's annotations (None: not typed).
    """

    method: str
    path: str
    version: str = ""
    summary: str = ""
    description: str = ""
    permission: str | None = None
    request_schema: dict[str, Any] | None = None
    response_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler  # what the router calls: a typed handler adapted to Request -> Response
    regex: re.Pattern[str]
    declaration: RouteDeclaration
    # Per segment: 2 literal, 1 text and parameters, 0 a bare parameter (greater is more specific).
    specificity: tuple[int, ...] = ()


def specificity(pattern: str) -> tuple[int, ...]:
    ranks = []
    for segment in pattern[1:].split("/"):
        if not _PARAM.search(segment):
            ranks.append(2)
        else:
            ranks.append(0 if _PARAM.fullmatch(segment) else 1)
    return tuple(ranks)


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


def route_version(pattern: str) -> str:
    """`v1` for `/v1/items`; empty for an unversioned pattern."""
    first = pattern.lstrip("/").split("/", 1)[0]
    return first if _VERSION.match(first) else ""


def _with_path_params(request: Request, params: dict[str, str]) -> Request:
    """`dataclasses.replace(request, path_params=params)`, filled in directly: the frozen dataclass's
    `__init__` sets each field through `object.__setattr__`, several times native cost in the
    guest's CPython, on every request to a route with parameters (tests/sdk check both agree)."""
    made = object.__new__(type(request))
    made.__dict__.update(request.__dict__, path_params=params)
    return made


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []
        # Patterns without parameters, by path then method: an exact literal match is the most
        # specific route there can be, so it is found without trying every pattern (the guest's
        # CPython runs each regex at several times native cost, on every request).
        self._literal: dict[str, dict[str, Route]] = {}
        # The patterns a path can match, by the path's first segment: those whose first segment
        # is that literal text, and those whose first segment has a parameter (`_open_first`),
        # each list in the order added. A module with many routes tries a few regexes, not all.
        self._by_first: dict[str, list[Route]] = {}
        self._open_first: list[Route] = []

    def add(
        self,
        method: str,
        pattern: str,
        handler: Callable[..., Any],
        *,
        summary: str = "",
        description: str = "",
        permission: str | None = None,
    ) -> None:
        regex = compile_pattern(pattern)
        adapted = adapt(handler, pattern, set(regex.groupindex))
        doc = (handler.__doc__ or "").strip()
        declaration = RouteDeclaration(
            method=method.upper(),
            path=pattern,
            version=route_version(pattern),
            # The docstring's first line and the rest, unless given.
            summary=summary or doc.split("\n", 1)[0].strip(),
            description=description or (doc.split("\n", 1)[1].strip() if "\n" in doc else ""),
            permission=permission,
            request_schema=adapted.request_schema,
            response_schema=adapted.response_schema,
        )
        route = Route(method.upper(), pattern, adapted.call, regex, declaration, specificity(pattern))
        self._routes.append(route)
        if not regex.groupindex:
            self._literal.setdefault(pattern, {}).setdefault(route.method, route)  # the first added
        first = pattern[1:].split("/", 1)[0]
        if _PARAM.search(first):
            self._open_first.append(route)
            for candidates in self._by_first.values():
                candidates.append(route)
        else:
            self._by_first.setdefault(first, list(self._open_first)).append(route)

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(self._routes)

    def _candidates(self, path: str) -> list[Route]:
        """The routes that can match `path` (a parameter never spans a `/`), in the order added."""
        if not path.startswith("/"):
            return self._routes  # matches none of them: said by the full scan
        return self._by_first.get(path[1:].split("/", 1)[0], self._open_first)

    def dispatch(self, request: Request) -> Response:
        literal = self._literal.get(request.path)
        if literal is not None:
            route = literal.get(request.method.upper())
            if route is not None:
                return route.handler(_with_path_params(request, {}) if request.path_params else request)
        allowed: list[str] = []
        best: tuple[Route, re.Match[str]] | None = None
        for route in self._candidates(request.path):
            match = route.regex.fullmatch(request.path)  # `$` alone would admit a trailing newline
            if match is None:
                continue
            if route.method != request.method.upper():
                allowed.append(route.method)
                continue
            if best is None or route.specificity > best[0].specificity:
                best = (route, match)
        if best is not None:
            params = best[1].groupdict()
            same = params == request.path_params  # none, as a request from the host has
            return best[0].handler(request if same else _with_path_params(request, params))
        if allowed:
            return Response(
                405,
                (("allow", ", ".join(sorted(set(allowed)))), ("content-type", "application/json")),
                b'{"error":"method not allowed"}',
            )
        return Response.error(404, "no route", path=request.path)
