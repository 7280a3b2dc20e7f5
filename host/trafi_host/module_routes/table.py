"""A module's declared routes as one table: which route a request is, or why none is.

Built once per load (`route_table`, cached by the load's id). Two routes of one
method with the same shape (`/v1/items/{id}` and `/v1/items/{sku}`) would leave
the host unable to say which one a request means: building the table refuses
them (a load error, and a refusal at install).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from ..errors import ModuleStartError
from ..runtime.declarations import DeclaredRoute
from .pattern import RoutePattern, RoutePatternError, split_path


class RouteConflict(ModuleStartError):
    """Two declared routes a request could not be told apart by: the module cannot be served."""


@dataclass(frozen=True)
class TableEntry:
    route: DeclaredRoute
    pattern: RoutePattern
    order: int  # the route's place in the declared list: ties go to the first declared


@dataclass(frozen=True)
class RouteMatch:
    route: DeclaredRoute
    pattern: RoutePattern
    parameters: dict[str, str]


@dataclass(frozen=True)
class NoRoute:
    """No declared route has this path (`allowed` empty: 404) or this method for it (405)."""

    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteTable:
    module: str
    entries: tuple[TableEntry, ...] = ()
    routes: tuple[DeclaredRoute, ...] = ()  # what it was built from
    _by_method: dict[str, tuple[TableEntry, ...]] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, module: str, routes: tuple[DeclaredRoute, ...]) -> RouteTable:
        entries: list[TableEntry] = []
        seen: dict[tuple[str, str], DeclaredRoute] = {}
        for order, route in enumerate(routes):
            try:
                pattern = RoutePattern.parse(route.path)
            except RoutePatternError as error:
                raise RouteConflict(f"module {module}: route {route.method} {route.path}: {error}") from None
            key = (route.method, pattern.shape)
            other = seen.get(key)
            if other is not None:
                raise RouteConflict(
                    f"module {module}: routes {other.method} {other.path} and {route.method} {route.path} "
                    "match the same requests (they differ only in parameter names); declare one"
                )
            seen[key] = route
            entries.append(TableEntry(route, pattern, order))
        by_method: dict[str, list[TableEntry]] = {}
        for entry in entries:
            by_method.setdefault(entry.route.method, []).append(entry)
        return cls(module, tuple(entries), routes, {m: tuple(e) for m, e in by_method.items()})

    def resolve(self, method: str, path: str) -> RouteMatch | NoRoute:
        """The route a request to `path` (below the module's prefix) means."""
        parts = split_path(path)
        best: tuple[tuple[int, ...], int, TableEntry, dict[str, str]] | None = None
        for entry in self._by_method.get(method.upper(), ()):
            parameters = entry.pattern.match(parts)
            if parameters is None:
                continue
            rank = (entry.pattern.specificity, -entry.order)
            if best is None or rank > (best[0], best[1]):
                best = (rank[0], rank[1], entry, parameters)
        if best is not None:
            return RouteMatch(best[2].route, best[2].pattern, best[3])
        allowed = sorted({e.route.method for e in self.entries if e.pattern.match(parts) is not None})
        return NoRoute(tuple(allowed))

    def find(self, method: str, path_pattern: str) -> TableEntry | None:
        """The entry declared for `method` with the shape of `path_pattern`, if any."""
        shape = RoutePattern.parse(path_pattern).shape
        for entry in self._by_method.get(method.upper(), ()):
            if entry.pattern.shape == shape:
                return entry
        return None


_TABLES: OrderedDict[str, RouteTable] = OrderedDict()
_KEPT = 256  # loads: far more than a host runs at once (old loads drop out)


def route_table(load_id: str, module: str, routes: tuple[DeclaredRoute, ...]) -> RouteTable:
    """The table of one load of a module, built on first use and kept while the load is recent."""
    table = _TABLES.get(load_id)
    # An image copied with what its start read keeps its load id: the routes decide, not the id.
    if table is None or table.routes is not routes:
        table = RouteTable.build(module, routes)
        _TABLES[load_id] = table
        while len(_TABLES) > _KEPT:
            _TABLES.popitem(last=False)
    return table
