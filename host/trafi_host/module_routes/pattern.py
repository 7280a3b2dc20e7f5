"""One declared path pattern (`/v1/items/{id}`): what it matches and how specific it is.

A `{name}` parameter matches one non-empty path segment (never a `/`), as the
SDK's router does; a segment may mix text and parameters (`{name}.json`). When
several patterns match one path, the most specific wins: compared segment by
segment from the left, a literal segment beats a mixed one, which beats a bare
parameter. The SDK's router applies the same order (`trafi_sdk/routing.py`), so
the route whose permission the host checked is the route the module runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import TrafiError

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A segment's rank in the precedence: higher is more specific.
LITERAL, MIXED, PARAMETER = 2, 1, 0


class RoutePatternError(TrafiError):
    """A declared path that is not a pattern the host can match."""


@dataclass(frozen=True)
class Segment:
    text: str  # as declared
    rank: int
    regex: re.Pattern[str] | None  # None for a literal segment; one group per parameter
    names: tuple[str, ...] = ()

    def match(self, value: str) -> dict[str, str] | None:
        """The segment's parameters in `value`, or None when it does not match."""
        if self.regex is None:
            return {} if value == self.text else None
        found = self.regex.fullmatch(value)
        return None if found is None else dict(zip(self.names, found.groups(), strict=True))

    @property
    def shape(self) -> str:
        """The segment with its parameter names erased: `{}` or `{}.json`."""
        return _PARAMETER.sub("{}", self.text)


def _segment(text: str, pattern: str) -> Segment:
    if "{" not in text and "}" not in text:
        return Segment(text, LITERAL, None)
    outside = _PARAMETER.sub("", text)
    if "{" in outside or "}" in outside:
        raise RoutePatternError(
            f"path {pattern!r}: segment {text!r} has a brace that is not a `{{name}}` parameter "
            "(a name is letters, digits and `_`, not starting with a digit)"
        )
    parts: list[str] = []
    last = 0
    for found in _PARAMETER.finditer(text):
        parts.append(re.escape(text[last : found.start()]))
        parts.append("([^/]+)")
        last = found.end()
    parts.append(re.escape(text[last:]))
    rank = PARAMETER if _PARAMETER.fullmatch(text) else MIXED
    return Segment(text, rank, re.compile("".join(parts)), tuple(_PARAMETER.findall(text)))


@dataclass(frozen=True)
class RoutePattern:
    text: str
    segments: tuple[Segment, ...]

    @classmethod
    def parse(cls, text: str) -> RoutePattern:
        if not text.startswith("/"):
            raise RoutePatternError(f"path {text!r} must start with '/'")
        segments = tuple(_segment(part, text) for part in text[1:].split("/"))
        names = [name for segment in segments for name in _PARAMETER.findall(segment.text)]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise RoutePatternError(f"path {text!r} names the parameter {repeated[0]!r} twice")
        return cls(text, segments)

    @property
    def shape(self) -> str:
        """The pattern with parameter names erased: two patterns of one shape match the same paths."""
        return "/" + "/".join(segment.shape for segment in self.segments)

    @property
    def specificity(self) -> tuple[int, ...]:
        """Compared as tuples: the greater is the more specific (left to right, literal first)."""
        return tuple(segment.rank for segment in self.segments)

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """The parameters of the request path split on `/` (without its leading `/`), or None
        when it is not one of this pattern's paths."""
        if len(parts) != len(self.segments):
            return None
        parameters: dict[str, str] = {}
        for segment, part in zip(self.segments, parts, strict=True):
            found = segment.match(part)
            if found is None:
                return None
            parameters.update(found)
        return parameters

    def filled(self, parameters: dict[str, str]) -> str:
        """The pattern with its parameters replaced by `parameters` (a successor version's URL)."""
        return _PARAMETER.sub(lambda found: parameters.get(found.group(1), found.group(0)), self.text)


def split_path(path: str) -> list[str]:
    """A request path below the module's prefix (`/v1/items/5`) as the segments patterns match."""
    return path[1:].split("/") if path.startswith("/") else path.split("/")
