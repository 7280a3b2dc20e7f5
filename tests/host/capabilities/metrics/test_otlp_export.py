"""OTLP/HTTP export: a real local receiver decodes what the SDK's exporter sends."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from tests.host.capabilities.harness import call_host_function
from tests.host.capabilities.metrics.test_recording import DECLARED, module_folder  # noqa: F401
from trafi_host.capabilities.metrics.host import MetricsCapability
from trafi_host.capabilities.metrics.otlp import OtlpMirror
from trafi_host.capabilities.metrics.store import MetricsStore


class Receiver:
    """An OTLP/HTTP metrics endpoint on 127.0.0.1 keeping every request it decoded."""

    def __init__(self) -> None:
        self.requests: list[ExportMetricsServiceRequest] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                assert self.headers["Content-Type"] == "application/x-protobuf"
                message = ExportMetricsServiceRequest()
                message.ParseFromString(body)
                received.append(message)
                answer = ExportMetricsServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/metrics"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def metrics(self) -> dict[str, Any]:
        found = {}
        for request in self.requests:
            for resource in request.resource_metrics:
                for scope in resource.scope_metrics:
                    for metric in scope.metrics:
                        found[metric.name] = (resource, metric)
        return found


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def attributes(point: Any) -> dict[str, str]:
    return {a.key: a.value.string_value for a in point.attributes}


def test_recorded_metrics_reach_an_otlp_receiver_with_their_attributes(
    receiver: Receiver,
    module_folder: Path,  # noqa: F811
) -> None:
    mirror = OtlpMirror(receiver.url, "host-a:1", interval_ms=60_000)
    try:
        capability = MetricsCapability(MetricsStore("host-a:1", mirror))

        def record(operation: str, name: str, value: float, labels: dict[str, str], tenant: str) -> None:
            result = call_host_function(
                capability,
                getattr(capability, operation),
                name,
                value,
                list(labels.items()),
                module="reviews",
                tenant=tenant,
                folder=module_folder,
            )
            assert result is None

        record("add", "reviews_created_total", 2, {"rating": "5"}, "acme")
        record("add", "reviews_created_total", 1, {"rating": "5"}, "globex")
        record("set", "queue_depth", 4, {}, "acme")
        record("add", "queue_depth", 3, {}, "acme")
        record("observe", "moderation_duration_seconds", 0.5, {}, "acme")
        assert mirror.flush()
    finally:
        mirror.close()

    metrics = receiver.metrics()
    resource, created = metrics["trafi_module_reviews_reviews_created_total"]
    service = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert service["service.name"] == "trafi"
    assert service["service.instance.id"] == "host-a:1"
    assert created.sum.is_monotonic
    points = {attributes(p)["tenant"]: (attributes(p), p.as_double) for p in created.sum.data_points}
    assert points["acme"] == ({"tenant": "acme", "process": "host-a:1", "rating": "5"}, 2)
    assert points["globex"][1] == 1

    _, depth = metrics["trafi_module_reviews_queue_depth"]
    [gauge] = depth.gauge.data_points
    assert gauge.as_double == 7  # the value an `add` reached

    _, duration = metrics["trafi_module_reviews_moderation_duration_seconds"]
    assert duration.unit == "seconds"
    [histogram] = duration.histogram.data_points
    assert list(histogram.explicit_bounds) == [0.1, 1.0]
    assert list(histogram.bucket_counts) == [0, 1, 0]
    assert histogram.count == 1
    assert attributes(histogram) == {"tenant": "acme", "process": "host-a:1"}
