"""The manifest's top-level `metrics`: what a module declares, and the naming conventions.

The pydantic model checks the shape (a type, label names as a list, buckets
for histograms); the Prometheus/OpenMetrics conventions are checked by
`naming_problems`, so that `trafi module validate` reports each with the
manifest path and the conventional name it should have been.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, model_validator

from ...manifest.base import ManifestModel

MetricType = Literal["counter", "gauge", "histogram"]
# How the workers' values of one gauge series make its value for the host (several workers).
AcrossWorkers = Literal["sum", "max", "min"]

# The most distinct label-value sets one metric may have per tenant, whatever it asks.
MAX_SERIES_CAP = 1000
MAX_LABELS = 8
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Labels the host adds (`tenant`, `process`) or Prometheus owns (`le`, `quantile`,
# the scrape's `job` and `instance`): a module declaring one would clash with them.
RESERVED_LABELS = frozenset({"tenant", "process", "module", "le", "quantile", "job", "instance"})
# The suffixes Prometheus gives a metric's own series (histogram parts, `_created`).
RESERVED_SUFFIXES = ("_bucket", "_count", "_sum", "_created", "_info")
BASE_UNITS = ("seconds", "bytes", "ratio", "meters", "grams", "joules", "volts", "amperes", "celsius")
# A unit that is not a base unit, and the base unit to use instead.
NON_BASE_UNITS = {
    "ms": "seconds",
    "msec": "seconds",
    "millis": "seconds",
    "milliseconds": "seconds",
    "us": "seconds",
    "microseconds": "seconds",
    "ns": "seconds",
    "nanoseconds": "seconds",
    "secs": "seconds",
    "sec": "seconds",
    "minutes": "seconds",
    "hours": "seconds",
    "days": "seconds",
    "kb": "bytes",
    "kilobytes": "bytes",
    "mb": "bytes",
    "megabytes": "bytes",
    "gb": "bytes",
    "gigabytes": "bytes",
    "percent": "ratio",
    "pct": "ratio",
}
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

MetricName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        description="snake_case in base units, e.g. `points_awarded_total`; exported as "
        "`trafi_module_<module>_<name>`.",
    ),
]


class MetricDeclaration(ManifestModel):
    """One metric the module records through `trafi:host/metrics`."""

    name: MetricName
    type: MetricType = Field(
        description="`counter` (only goes up), `gauge` (set, goes up and down) or "
        "`histogram` (observations counted into buckets)."
    )
    help: str = Field(min_length=1, max_length=300, description="What it measures; the `# HELP` line.")
    unit: str = Field(
        default="",
        max_length=20,
        description="A base unit (`seconds`, `bytes`, `ratio`...); the name then ends with it.",
    )
    labels: list[str] = Field(
        default_factory=list, max_length=MAX_LABELS, description="Label names the module gives values to."
    )
    buckets: list[float] | None = Field(
        default=None,
        min_length=1,
        max_length=30,
        description="Histograms only: upper bounds, increasing (default: 5 ms to 10 s).",
    )
    across_workers: AcrossWorkers | None = Field(
        default=None,
        description="Gauges only: how the values the workers of `trafi serve --workers N` each hold "
        "make the host's (the dashboard's Metrics tab). `sum` (the default) for a gauge of each "
        "worker's own share (calls in flight); `max` or `min` for one each worker reads from shared "
        "state (a count in kv), which a sum would multiply by the workers. `/metrics` keeps every "
        "worker's series apart either way.",
    )
    max_series: int = Field(
        default=100,
        ge=1,
        le=MAX_SERIES_CAP,
        description="Distinct label-value sets per tenant; more are recorded in one overflow series.",
    )

    @model_validator(mode="after")
    def _buckets(self) -> MetricDeclaration:
        if self.buckets is not None:
            if self.type != "histogram":
                raise ValueError(f"metric {self.name!r}: buckets are for histograms, this is a {self.type}")
            if any(b >= a for a, b in zip(self.buckets[1:], self.buckets, strict=False)):
                raise ValueError(f"metric {self.name!r}: buckets must be increasing")
        if self.across_workers is not None and self.type != "gauge":
            raise ValueError(
                f"metric {self.name!r}: acrossWorkers is for gauges; a {self.type}'s workers always add up"
            )
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"metric {self.name!r}: a label name is listed twice")
        return self

    @property
    def combined_across_workers(self) -> AcrossWorkers:
        return self.across_workers or "sum"

    @property
    def bucket_bounds(self) -> tuple[float, ...]:
        return tuple(self.buckets) if self.buckets is not None else DEFAULT_BUCKETS


DECLARATIONS = TypeAdapter(list[MetricDeclaration])


def _snake(text: str) -> str:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).lower()
    text = re.sub(r"_+", "_", text).strip("_")
    return text if text and text[0].isalpha() else f"m_{text}"


def conventional_unit(unit: str) -> str:
    """The base unit for `unit` (`milliseconds` -> `seconds`); `unit` itself when it is one."""
    unit = _snake(unit) if unit else ""
    return NON_BASE_UNITS.get(unit, unit)


def conventional_name(name: str, kind: MetricType, unit: str = "") -> str:
    """The name the conventions give: snake_case, base unit suffix, `_total` on counters only."""
    words = _snake(name).split("_")
    while words and words[-1] == "total":
        words.pop()
    if len(words) > 1 and words[-1] in ("count", "sum", "bucket", "info"):
        words.pop()
    if words and words[-1] in NON_BASE_UNITS:
        words[-1] = NON_BASE_UNITS[words[-1]]
    wanted_unit = conventional_unit(unit)
    if wanted_unit and words[-len(wanted_unit.split("_")) :] != wanted_unit.split("_"):
        words += wanted_unit.split("_")
    if not words:
        words = ["value"]
    if kind == "counter":
        words.append("total")
    return "_".join(words)


def naming_problems(declaration: MetricDeclaration) -> list[str]:
    """What in the name breaks the conventions (empty when it follows them)."""
    name, problems = declaration.name, []
    if not SNAKE_CASE.fullmatch(name):
        problems.append("is not snake_case (lowercase words joined by single underscores)")
    words = name.split("_")
    if any(word in NON_BASE_UNITS for word in words):
        problems.append("uses a unit that is not a base unit (`_seconds`, `_bytes`, `_ratio`)")
    if declaration.type == "counter" and not name.endswith("_total"):
        problems.append("is a counter: counters end with `_total`")
    if declaration.type != "counter" and name.endswith("_total"):
        problems.append(f"is a {declaration.type}: only counters end with `_total`")
    if name.endswith(RESERVED_SUFFIXES):
        problems.append(f"ends with a suffix Prometheus reserves ({', '.join(RESERVED_SUFFIXES)})")
    unit = conventional_unit(declaration.unit)
    stem = name.removesuffix("_total")
    if unit and not stem.endswith(f"_{unit}"):
        problems.append(f"declares unit {unit!r}: the name must end with `_{unit}`")
    return problems


def unit_problem(declaration: MetricDeclaration) -> str | None:
    if not declaration.unit or declaration.unit in BASE_UNITS:
        return None
    suggestion = conventional_unit(declaration.unit)
    hint = f"; did you mean {suggestion!r}?" if suggestion in BASE_UNITS else ""
    return f"{declaration.unit!r} is not a base unit ({', '.join(BASE_UNITS)}){hint}"


def label_problem(label: str) -> str | None:
    if label in RESERVED_LABELS or label.startswith("__"):
        return f"{label!r} is reserved (the host or Prometheus sets it)"
    if not SNAKE_CASE.fullmatch(label):
        return f"{label!r} is not snake_case; did you mean {_snake(label)!r}?"
    return None


def series_prefix(module: str) -> str:
    """`trafi_module_<module>_`, the module name in snake_case (`loyalty-points` -> `loyalty_points`)."""
    return f"trafi_module_{module.replace('-', '_')}_"


__all__ = [
    "DECLARATIONS",
    "MAX_SERIES_CAP",
    "RESERVED_LABELS",
    "MetricDeclaration",
    "MetricType",
    "conventional_name",
    "label_problem",
    "naming_problems",
    "series_prefix",
    "unit_problem",
]
