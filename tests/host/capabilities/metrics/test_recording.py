"""Recording through the host functions, read back with prometheus-client's own text parser."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from wasmtime import component as wc

from tests.host.capabilities.harness import call_host_function
from trafi_host.capabilities.metrics.host import MetricsCapability
from trafi_host.capabilities.metrics.store import OVERFLOW, MetricsStore

DECLARED = [
    {"name": "reviews_created_total", "type": "counter", "help": "Reviews created.", "labels": ["rating"]},
    {"name": "queue_depth", "type": "gauge", "help": "Reviews waiting."},
    {
        "name": "moderation_duration_seconds",
        "type": "histogram",
        "help": "Time to moderate one review.",
        "unit": "seconds",
        "buckets": [0.1, 1.0],
    },
    {"name": "lookups_total", "type": "counter", "help": "Lookups.", "labels": ["kind"], "maxSeries": 2},
]


@pytest.fixture
def module_folder(tmp_path: Path) -> Path:
    (tmp_path / "trafi-module.json").write_text(json.dumps({"name": "reviews", "metrics": DECLARED}))
    return tmp_path


@pytest.fixture
def store() -> MetricsStore:
    return MetricsStore(process="host-a:1")


Record = Callable[..., Any]


@pytest.fixture
def record(store: MetricsStore, module_folder: Path) -> Record:
    capability = MetricsCapability(store)

    def call(operation: str, name: str, value: float, labels: dict[str, str], tenant: str = "acme") -> Any:
        function = getattr(capability, operation)
        return call_host_function(
            capability,
            function,
            name,
            value,
            list(labels.items()),
            module="reviews",
            tenant=tenant,
            folder=module_folder,
        )

    return call


def scrape(store: MetricsStore) -> dict[str, list[Sample]]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(store)  # type: ignore[arg-type]
    text = generate_latest(registry).decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def test_each_type_is_recorded_and_scraped_with_the_host_labels(record: Record, store: MetricsStore) -> None:
    assert record("add", "reviews_created_total", 1, {"rating": "5"}) is None
    assert record("add", "reviews_created_total", 2, {"rating": "5"}) is None
    assert record("set", "queue_depth", 7, {}) is None
    assert record("add", "queue_depth", -2, {}) is None
    for seconds in (0.05, 0.5, 3.0):
        assert record("observe", "moderation_duration_seconds", seconds, {}) is None
    families = scrape(store)
    [created] = families["trafi_module_reviews_reviews_created"]
    assert created.name == "trafi_module_reviews_reviews_created_total"
    assert created.labels == {"tenant": "acme", "process": "host-a:1", "rating": "5"}
    assert created.value == 3
    [depth] = families["trafi_module_reviews_queue_depth"]
    assert depth.value == 5
    histogram = {
        (s.name, s.labels.get("le")): s.value
        for s in families["trafi_module_reviews_moderation_duration_seconds"]
    }
    assert histogram[("trafi_module_reviews_moderation_duration_seconds_bucket", "0.1")] == 1
    assert histogram[("trafi_module_reviews_moderation_duration_seconds_bucket", "1.0")] == 2
    assert histogram[("trafi_module_reviews_moderation_duration_seconds_bucket", "+Inf")] == 3
    assert histogram[("trafi_module_reviews_moderation_duration_seconds_count", None)] == 3
    assert histogram[("trafi_module_reviews_moderation_duration_seconds_sum", None)] == pytest.approx(3.55)


def test_two_tenants_get_separate_series(record: Record, store: MetricsStore) -> None:
    record("add", "reviews_created_total", 1, {"rating": "4"}, tenant="acme")
    record("add", "reviews_created_total", 5, {"rating": "4"}, tenant="globex")
    samples = scrape(store)["trafi_module_reviews_reviews_created"]
    assert {s.labels["tenant"]: s.value for s in samples} == {"acme": 1, "globex": 5}


def error_case(result: Any) -> tuple[str, str]:
    assert isinstance(result, wc.Variant), result
    return result.tag, str(result.payload)


@pytest.mark.parametrize(
    ("operation", "name", "value", "labels", "message"),
    [
        ("add", "reviews_deleted_total", 1, {}, "declares no metric 'reviews_deleted_total'"),
        ("add", "reviews_created_total", 1, {}, "takes rating; given no labels"),
        ("add", "reviews_created_total", 1, {"stars": "5"}, "takes rating; given stars"),
        ("add", "reviews_created_total", 1, {"rating": "5", "tenant": "globex"}, "given rating, tenant"),
        ("add", "reviews_created_total", -1, {"rating": "5"}, "only goes up"),
        ("set", "reviews_created_total", 1, {"rating": "5"}, "only gauges are set"),
        ("observe", "queue_depth", 1, {}, "only histograms observe"),
        ("add", "moderation_duration_seconds", 1, {}, "use observe"),
        ("set", "queue_depth", float("nan"), {}, "not a finite number"),
    ],
)
def test_a_recording_the_declaration_refuses_is_an_error_value(
    record: Record,
    store: MetricsStore,
    operation: str,
    name: str,
    value: float,
    labels: dict[str, str],
    message: str,
) -> None:
    case, text = error_case(record(operation, name, value, labels))
    assert case == "invalid-argument"
    assert message in text
    assert all(not samples for family, samples in scrape(store).items() if "overflow" not in family)


def test_label_sets_past_the_cap_go_to_one_overflow_series_and_are_counted(
    record: Record, store: MetricsStore
) -> None:
    for kind in ("a", "b", "c", "d", "a"):
        assert record("add", "lookups_total", 1, {"kind": kind}) is None
    record("add", "lookups_total", 1, {"kind": "z"}, tenant="globex")  # another tenant has its own cap
    families = scrape(store)
    values = {
        (s.labels["tenant"], s.labels["kind"]): s.value for s in families["trafi_module_reviews_lookups"]
    }
    assert values == {("acme", "a"): 2, ("acme", "b"): 1, ("acme", OVERFLOW): 2, ("globex", "z"): 1}
    [overflows] = families["trafi_module_metric_overflows"]
    assert overflows.labels == {
        "module": "reviews",
        "metric": "lookups_total",
        "tenant": "acme",
        "process": "host-a:1",
    }
    assert overflows.value == 2


def test_without_a_store_recordings_are_checked_then_dropped(module_folder: Path) -> None:
    capability = MetricsCapability()  # a trial start
    ok = call_host_function(
        capability, capability.add, "queue_depth", 1.0, [], module="reviews", folder=module_folder
    )
    assert ok is None
    refused = call_host_function(
        capability, capability.add, "nope", 1.0, [], module="reviews", folder=module_folder
    )
    assert error_case(refused)[0] == "invalid-argument"


def test_a_new_declaration_starts_the_series_again_and_an_unchanged_one_keeps_it(
    record: Record, store: MetricsStore, module_folder: Path
) -> None:
    record("set", "queue_depth", 3, {})
    record("set", "queue_depth", 4, {}, tenant="globex")  # another instance, same series
    assert {s.labels["tenant"]: s.value for s in scrape(store)["trafi_module_reviews_queue_depth"]} == {
        "acme": 3,
        "globex": 4,
    }
    changed = [
        dict(d, help="Reviews waiting for a moderator.") if d["name"] == "queue_depth" else d
        for d in DECLARED
    ]
    (module_folder / "trafi-module.json").write_text(json.dumps({"name": "reviews", "metrics": changed}))
    record("set", "queue_depth", 1, {})
    assert {s.labels["tenant"]: s.value for s in scrape(store)["trafi_module_reviews_queue_depth"]} == {
        "acme": 1
    }


def test_a_name_the_host_or_another_module_exports_is_refused(tmp_path: Path, store: MetricsStore) -> None:
    clashing = [{"name": "duration_seconds", "type": "histogram", "help": "x"}]
    (tmp_path / "trafi-module.json").write_text(json.dumps({"name": "call", "metrics": clashing}))
    capability = MetricsCapability(store)
    refused = call_host_function(
        capability, capability.observe, "duration_seconds", 1.0, [], module="call", folder=tmp_path
    )
    case, text = error_case(refused)
    assert case == "invalid-argument"
    assert "trafi_module_call_duration_seconds is one of the host's own series" in text
