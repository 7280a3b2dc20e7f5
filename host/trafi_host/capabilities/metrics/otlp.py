"""Module metrics over OTLP/HTTP, when `TRAFI_OTLP_METRICS_ENDPOINT` names a receiver.

Each value a module records is mirrored into an OpenTelemetry instrument of the
same exported name (counter, gauge, histogram with the declared buckets) with
the same attributes as the Prometheus labels (`tenant`, `process` and the
module's), and the SDK's periodic reader sends them, cumulative, to the
endpoint. Nothing of this runs when no endpoint is configured.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from .store import MetricSeries


class OtlpMirror:
    """A `MetricMirror` that sends to one OTLP/HTTP endpoint; `close()` flushes and stops it."""

    def __init__(self, endpoint: str, process: str, interval_ms: int = 10_000) -> None:
        self.endpoint = endpoint
        self.reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=endpoint, timeout=5), export_interval_millis=interval_ms
        )
        resource = Resource.create({"service.name": "trafi", "service.instance.id": process})
        self.provider = MeterProvider(metric_readers=[self.reader], resource=resource)
        self.meter = self.provider.get_meter("trafi.modules")
        self._instruments: dict[tuple[str, int], Any] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _instrument(self, series: MetricSeries) -> Any:
        key = (series.exported_name, id(series))
        instrument = self._instruments.get(key)
        if instrument is not None:
            return instrument
        with self._lock:
            instrument = self._instruments.get(key)
            if instrument is None:
                declaration = series.declaration
                name, unit, text = series.exported_name, declaration.unit, declaration.help
                if series.kind == "counter":
                    instrument = self.meter.create_counter(name, unit, text)
                elif series.kind == "gauge":
                    instrument = self.meter.create_gauge(name, unit, text)
                else:
                    instrument = self.meter.create_histogram(
                        name, unit, text, explicit_bucket_boundaries_advisory=series.bounds
                    )
                self._instruments[key] = instrument
        return instrument

    def record(
        self, series: MetricSeries, attributes: Mapping[str, str], value: float, result: float
    ) -> None:
        instrument = self._instrument(series)
        if series.kind == "counter":
            instrument.add(value, attributes)
        elif series.kind == "gauge":
            instrument.set(result, attributes)  # an `add` to a gauge sends the value it reached
        else:
            instrument.record(value, attributes)

    def flush(self, timeout_ms: int = 5_000) -> bool:
        return bool(self.provider.force_flush(timeout_ms))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.provider.shutdown()
