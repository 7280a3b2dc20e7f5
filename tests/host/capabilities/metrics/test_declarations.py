"""The manifest's `metrics`: shape checked by the model, conventions by the capability's `configure`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trafi_host.capabilities.metrics.declarations import conventional_name
from trafi_host.capabilities.metrics.host import MetricsCapability
from trafi_host.errors import TrafiError
from trafi_host.manifest.load import parse_manifest
from trafi_host.manifest.model import Manifest
from trafi_host.validation.findings import Finding


def manifest_with(metrics: list[dict[str, Any]], world: str = "trafi:host/module@0.2.0") -> Manifest:
    return parse_manifest(
        {
            "name": "shop-sync",
            "version": "1.0.0",
            "description": "Syncs the shop.",
            "author": "Ann",
            "license": "MIT",
            "trafi": "^0.1.0",
            "world": world,
            "entry": {"backend": "dist/shop-sync.wasm"},
            "metrics": metrics,
        }
    )


def counter(name: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "type": "counter", "help": "Reviews created.", **more}


def findings(*metrics: dict[str, Any]) -> list[Finding]:
    return MetricsCapability().configure(manifest_with(list(metrics)), Path("."))


def test_conventional_declarations_have_no_finding() -> None:
    assert (
        findings(
            counter("reviews_created_total", labels=["rating"]),
            {"name": "queue_depth", "type": "gauge", "help": "Waiting reviews."},
            {
                "name": "moderation_duration_seconds",
                "type": "histogram",
                "help": "Time to moderate.",
                "unit": "seconds",
                "buckets": [0.1, 1, 10],
            },
        )
        == []
    )


@pytest.mark.parametrize(
    ("name", "kind", "unit", "suggestion"),
    [
        ("reviews_created", "counter", "", "reviews_created_total"),
        ("reviewsCreated", "counter", "", "reviews_created_total"),
        ("reviews-created-total", "counter", "", "reviews_created_total"),
        ("request_latency_ms", "histogram", "", "request_latency_seconds"),
        ("payload_kilobytes", "gauge", "", "payload_bytes"),
        ("queue_depth_total", "gauge", "", "queue_depth"),
        ("sync_duration", "histogram", "seconds", "sync_duration_seconds"),
        ("lookups_count", "counter", "", "lookups_total"),
    ],
)
def test_a_bad_name_is_a_finding_with_the_conventional_name(
    name: str, kind: str, unit: str, suggestion: str
) -> None:
    declaration = {"name": name, "type": kind, "help": "Something.", "unit": unit}
    [finding] = findings(declaration)
    assert finding.rule == "TRF-O001"
    assert finding.severity == "error"
    assert finding.message.startswith(f"metrics[0].name {name!r}")
    assert finding.message.endswith(f"did you mean {suggestion!r}?")
    assert conventional_name(suggestion, kind, unit) == suggestion  # the suggestion is itself fine  # type: ignore[arg-type]


def test_a_unit_that_is_not_a_base_unit_is_a_finding() -> None:
    declaration = {"name": "sync_duration_seconds", "type": "histogram", "help": "x", "unit": "milliseconds"}
    [finding] = findings(declaration)
    assert finding.rule == "TRF-O001"
    assert "metrics[0].unit 'milliseconds' is not a base unit" in finding.message
    assert "did you mean 'seconds'?" in finding.message


@pytest.mark.parametrize("label", ["tenant", "process", "le", "instance", "__name__"])
def test_a_reserved_label_is_a_finding(label: str) -> None:
    [finding] = findings(counter("reviews_created_total", labels=["rating", label]))
    assert finding.rule == "TRF-O002"
    assert finding.message.startswith(f"metrics[0].labels[1] {label!r} is reserved")


def test_a_label_not_in_snake_case_is_a_finding_with_a_suggestion() -> None:
    [finding] = findings(counter("reviews_created_total", labels=["starRating"]))
    assert finding.rule == "TRF-O002"
    assert "did you mean 'star_rating'?" in finding.message


def test_metrics_need_the_0_2_world_and_each_name_once() -> None:
    manifest = manifest_with([counter("a_total"), counter("a_total")], world="trafi:host/module@0.1.0")
    found = MetricsCapability().configure(manifest, Path("."))
    assert [f.rule for f in found] == ["TRF-O003", "TRF-O003"]
    assert "trafi:host/module@0.2.0" in found[0].message
    assert "declared twice" in found[1].message


@pytest.mark.parametrize(
    ("declaration", "problem"),
    [
        (counter("a_total", buckets=[1, 2]), "buckets are for histograms"),
        ({"name": "a_seconds", "type": "histogram", "help": "x", "buckets": [2, 1]}, "increasing"),
        (counter("a_total", labels=["x", "x"]), "listed twice"),
        (counter("a_total", maxSeries=5000), "less than or equal to 1000"),
        ({"name": "a", "type": "summary", "help": "x"}, "counter"),
    ],
)
def test_a_malformed_declaration_is_refused_by_the_manifest(
    declaration: dict[str, Any], problem: str
) -> None:
    with pytest.raises(TrafiError) as caught:
        manifest_with([declaration])
    assert problem in str(caught.value)
    assert "metrics[0]" in str(caught.value) or "metrics.0" in str(caught.value)
