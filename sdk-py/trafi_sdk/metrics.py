"""Recording the metrics the manifest's `metrics` declares (world 0.2.0).

Declare each metric once, at module level, by its declared name; label values
are keyword arguments, one per declared label name:

    reviews_created = metrics.counter("reviews_created_total")
    reviews_created.inc(rating="5")

The host exports it as `trafi_module_<module>_<name>` with the tenant of the
call as a label. An undeclared name or a wrong label set raises
`InvalidArgument`: the declaration in the manifest is the contract.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import _bindings
from .errors import from_wit

__all__ = ["Counter", "Gauge", "Histogram", "counter", "gauge", "histogram"]


def _metrics() -> Any:
    return _bindings.require(_bindings.wit_metrics, "metrics")


def _record(operation: str, name: str, value: float, labels: dict[str, str]) -> None:
    try:
        getattr(_metrics(), operation)(name, float(value), [(k, str(v)) for k, v in labels.items()])
    except _bindings.WitErr as err:
        raise from_wit(err.value) from None


class _Metric:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Counter(_Metric):
    """Only goes up."""

    def inc(self, value: float = 1, **labels: str) -> None:
        _record("add", self.name, value, labels)

    def add(self, value: float, **labels: str) -> None:
        _record("add", self.name, value, labels)


class Gauge(_Metric):
    """A value that is set, and goes up and down."""

    def set(self, value: float, **labels: str) -> None:
        _record("set", self.name, value, labels)

    def add(self, value: float, **labels: str) -> None:
        _record("add", self.name, value, labels)

    def inc(self, value: float = 1, **labels: str) -> None:
        _record("add", self.name, value, labels)

    def dec(self, value: float = 1, **labels: str) -> None:
        _record("add", self.name, -value, labels)


class Histogram(_Metric):
    """Observations counted into the declared buckets."""

    def observe(self, value: float, **labels: str) -> None:
        _record("observe", self.name, value, labels)

    @contextmanager
    def time(self, **labels: str) -> Iterator[None]:
        """Observe how long the block took, in seconds."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.observe(time.perf_counter() - started, **labels)


def counter(name: str) -> Counter:
    return Counter(name)


def gauge(name: str) -> Gauge:
    return Gauge(name)


def histogram(name: str) -> Histogram:
    return Histogram(name)
