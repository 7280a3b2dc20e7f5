"""A rate as people write it (`120/minute`, `10 per second`, `1000/2 hours`): the `limits` syntax.

One rate per value: `limits` would read `1/second;10/minute` as two and keep the
first, a silent surprise, so several are refused by name.
"""

from __future__ import annotations

from typing import Annotated

from limits import RateLimitItem, parse_many
from pydantic import AfterValidator, Field

RATE_EXAMPLES = ("120/minute", "10/second", "5000 per hour", "1000/2 hours")


def parse_rate(text: str) -> RateLimitItem:
    """The rate `text` says; a ValueError names what is expected and what was found."""
    try:
        items = parse_many(text)
    except ValueError:
        items = []
    if not items:
        raise ValueError(
            f"must be a rate such as {', '.join(repr(e) for e in RATE_EXAMPLES)} "
            f"(<count>/<second|minute|hour|day|month|year>); found {text!r}"
        )
    if len(items) > 1:
        raise ValueError(f"must be one rate, found {len(items)} in {text!r}")
    item = items[0]
    if item.amount < 1:
        raise ValueError(f"must allow at least 1 request; found {text!r}")
    return item


def _checked(text: str) -> str:
    parse_rate(text)
    return text.strip()


RateText = Annotated[
    str,
    AfterValidator(_checked),
    Field(
        description="A rate in the `limits` syntax: `<count>/<unit>` or `<count> per <n> <unit>s`, "
        "e.g. `120/minute`.",
        examples=list(RATE_EXAMPLES),
    ),
]
