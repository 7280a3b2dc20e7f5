"""Several workers' scrapes as one: per-process series kept apart, host-wide series combined."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from trafi_host.api.metrics_merge import merge_metrics


def worker_text(process: str, calls: int, live: int, status: str = "loaded") -> str:
    return f"""# HELP trafi_module_calls_total HTTP calls handed to modules
# TYPE trafi_module_calls_total counter
trafi_module_calls_total {calls}.0
# HELP trafi_instances_live Live module instances
# TYPE trafi_instances_live gauge
trafi_instances_live {live}.0
# HELP trafi_module_up 1 for each module with its status
# TYPE trafi_module_up gauge
trafi_module_up{{module="hello",version="0.1.0",status="{status}"}} 1.0
# HELP trafi_module_call_duration_seconds Module call duration
# TYPE trafi_module_call_duration_seconds histogram
trafi_module_call_duration_seconds_bucket{{module="hello",process="{process}",le="+Inf"}} {calls}.0
trafi_module_call_duration_seconds_count{{module="hello",process="{process}"}} {calls}.0
trafi_module_call_duration_seconds_sum{{module="hello",process="{process}"}} 0.5
"""


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }


def test_host_wide_counters_and_summed_gauges_add_up_and_same_fact_gauges_are_not_doubled() -> None:
    merged = samples(merge_metrics([worker_text("web:1", 3, 2), worker_text("web:2", 5, 1)]))
    assert merged[("trafi_module_calls_total", ())] == 8.0
    assert merged[("trafi_instances_live", ())] == 3.0
    up = (("module", "hello"), ("status", "loaded"), ("version", "0.1.0"))
    assert merged[("trafi_module_up", up)] == 1.0


def test_series_of_each_process_pass_through_unchanged() -> None:
    merged = samples(merge_metrics([worker_text("web:1", 3, 2), worker_text("web:2", 5, 1)]))
    counts = {
        dict(labels)["process"]: value
        for (name, labels), value in merged.items()
        if name == "trafi_module_call_duration_seconds_count"
    }
    assert counts == {"web:1": 3.0, "web:2": 5.0}


def test_workers_that_disagree_on_a_status_show_both_statuses() -> None:
    merged = samples(merge_metrics([worker_text("web:1", 1, 1), worker_text("web:2", 1, 1, "quarantined")]))
    statuses = {dict(labels)["status"] for (name, labels) in merged if name == "trafi_module_up"}
    assert statuses == {"loaded", "quarantined"}


def test_one_text_comes_back_with_the_same_samples() -> None:
    text = worker_text("web:1", 4, 2)
    assert samples(merge_metrics([text])) == samples(text.encode())
