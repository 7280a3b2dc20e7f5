"""Python values to and from wasmtime's component `Record` values."""

from __future__ import annotations

import functools
from typing import Any

from wasmtime import component as wc


@functools.cache
def _kebab(name: str) -> str:
    return name.replace("_", "-")


def record(**fields: Any) -> wc.Record:
    """A WIT record; snake_case keyword names become the kebab-case field names."""
    value = wc.Record()
    for name, field in fields.items():
        setattr(value, _kebab(name), field)
    return value


def field(value: Any, name: str) -> Any:
    return getattr(value, _kebab(name))


# From this world version on, WIT `bytes` is a string carrying one byte per code point
# U+0000..U+00FF (latin-1): one copy across the component boundary, where `list<u8>` is a
# component value per byte.
BYTES_AS_TEXT_SINCE = (0, 3, 0)


class NotBytes(ValueError):
    """A WIT `bytes` string holding a code point above U+00FF; the message says which, where."""


def bytes_as_text(world_version: str) -> bool:
    """Whether world `world_version` carries bytes as a latin-1 string (else as `list<u8>`)."""
    return tuple(int(part) for part in world_version.split(".")) >= BYTES_AS_TEXT_SINCE


def bytes_from_text(value: str, what: str) -> bytes:
    """A WIT `bytes` string as bytes; NotBytes naming `what` and the first code point too large."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError as error:
        point = ord(value[error.start])
        raise NotBytes(
            f"{what} is not bytes: code point U+{point:04X} at index {error.start} is above U+00FF "
            "(each byte is one code point U+0000..U+00FF)"
        ) from None


def text_from_bytes(value: bytes) -> str:
    """Bytes as a WIT `bytes` string (latin-1: exact, for every byte value)."""
    return value.decode("latin-1")
