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
        raise from_wit(_bindings.error_value(err)) from None


class _Metric:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class Counter(_Metric):
    """Only goes up (a negative value is `InvalidArgument`).

    Example:

        orders_total = metrics.counter("orders_total")
        orders_total.inc(channel="web")
    """

    def inc(self, value: float = 1, **labels: str) -> None:
        """Adds `value` (default 1); the keyword arguments are the declared labels' values.

        Example:

            points_awarded.inc(25, reason="payment")
        """
        _record("add", self.name, value, labels)

    def add(self, value: float, **labels: str) -> None:
        """Adds `value` (>= 0).

        Example:

            bytes_sent.add(len(body))
        """
        _record("add", self.name, value, labels)


class Gauge(_Metric):
    """A value that is set, and goes up and down.

    Example:

        queue_depth = metrics.gauge("queue_depth")
        queue_depth.set(len(pending))
    """

    def set(self, value: float, **labels: str) -> None:
        """Sets the value.

        Example:

            orders_seen.set(kv.increment("orders-seen", 0))
        """
        _record("set", self.name, value, labels)

    def add(self, value: float, **labels: str) -> None:
        """Adds `value` (may be negative).

        Example:

            queue_depth.add(-3)
        """
        _record("add", self.name, value, labels)

    def inc(self, value: float = 1, **labels: str) -> None:
        """Adds `value` (default 1).

        Example:

            in_flight.inc()
        """
        _record("add", self.name, value, labels)

    def dec(self, value: float = 1, **labels: str) -> None:
        """Subtracts `value` (default 1).

        Example:

            in_flight.dec()
        """
        _record("add", self.name, -value, labels)


class Histogram(_Metric):
    """Observations counted into the declared buckets.

    Example:

        answer_time = metrics.histogram("points_service_duration_seconds")
        answer_time.observe(0.012, method="add")
    """

    def observe(self, value: float, **labels: str) -> None:
        """Counts `value` into its bucket.

        Example:

            basket_size.observe(len(order.lines))
        """
        _record("observe", self.name, value, labels)

    @contextmanager
    def time(self, **labels: str) -> Iterator[None]:
        """Observe how long the block took, in seconds.

        Example:

            with points_service_duration.time(method="add"):
                services.call("points.balance", "add", payload)
        """
        started = time.perf_counter()
        try:
            yield
        finally:
            self.observe(time.perf_counter() - started, **labels)


def counter(name: str) -> Counter:
    """The counter the manifest declares as `name` (declare it once, at module level).

    Example:

        reviews_created = metrics.counter("reviews_created_total")
    """
    return Counter(name)


def gauge(name: str) -> Gauge:
    """The gauge the manifest declares as `name`.

    Example:

        orders_seen = metrics.gauge("orders_seen")
    """
    return Gauge(name)


def histogram(name: str) -> Histogram:
    """The histogram the manifest declares as `name` (its buckets come from the manifest).

    Example:

        duration = metrics.histogram("points_service_duration_seconds")
    """
    return Histogram(name)
