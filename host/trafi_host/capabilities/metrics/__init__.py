"""metrics: the capability object (see `host.py`), the manifest declarations and the store."""

from .declarations import MetricDeclaration
from .host import MetricsCapability
from .store import MetricsStore

__all__ = ["MetricDeclaration", "MetricsCapability", "MetricsStore"]
