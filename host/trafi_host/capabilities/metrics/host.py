"""`trafi:host/metrics`: recording the metrics a module declares in its manifest's `metrics`.

Nothing is granted: a module may record what it declared, and only that. An
undeclared name, a wrong label set or a value the type refuses is
`invalid-argument`, never a trap. The tenant comes from the call context, never
from the module.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationError

from ...validation.findings import Finding
from ..base import Capability, HostFunction, InstanceFacts, host_error, hostcall
from ..call import current_call
from .declarations import (
    DECLARATIONS,
    MetricDeclaration,
    conventional_name,
    label_problem,
    naming_problems,
    unit_problem,
)
from .store import MetricSeries, MetricsStore, RecordingRefused, finite

if TYPE_CHECKING:
    from ...manifest.model import Manifest

log = logging.getLogger("trafi.metrics")

# The manifest file, read by `prepare` for the declarations (the capability layer
# sits below the manifest loader; the host has validated this file already).
MANIFEST_FILE = "trafi-module.json"
METRICS_SINCE = "0.2.0"


@dataclass(frozen=True)
class MetricsState:
    tenant: str
    metrics: dict[str, MetricSeries | str]  # declared name -> its series, or why it is not exported


class MetricsCapability(Capability[MetricsState]):
    name: ClassVar[str] = "metrics"
    interface: ClassVar[str | None] = "trafi:host/metrics"
    summary: ClassVar[str] = (
        "Counters, gauges and histograms the manifest's `metrics` declares, exported as "
        "`trafi_module_<module>_<name>` with a `tenant` label the host adds."
    )
    since: ClassVar[str] = METRICS_SINCE
    base_world: ClassVar[bool] = True

    def __init__(self, store: MetricsStore | None = None) -> None:
        # None: recordings are checked against the declarations, then dropped (a trial start).
        self.store = store
        self._declared: dict[tuple[str, str, int, int], tuple[MetricDeclaration, ...]] = {}
        self._lock = threading.Lock()

    # -- configure: the naming conventions ------------------------------------

    def configure(self, manifest: Manifest, folder: Path) -> list[Finding]:
        declarations = manifest.metrics
        if not declarations:
            return []
        findings: list[Finding] = []
        if not self.in_world(manifest.wit_version):
            findings.append(
                Finding.of(
                    "TRF-O003",
                    f"metrics: declared for world {manifest.world}; module metrics need "
                    f'"world": "trafi:host/module@{METRICS_SINCE}" or newer',
                    subject="world",
                )
            )
        seen: set[str] = set()
        for index, declaration in enumerate(declarations):
            where = f"metrics[{index}]"
            problems = naming_problems(declaration)
            if problems:
                suggestion = conventional_name(declaration.name, declaration.type, declaration.unit)
                findings.append(
                    Finding.of(
                        "TRF-O001",
                        f"{where}.name {declaration.name!r} {'; '.join(problems)}; "
                        f"did you mean {suggestion!r}?",
                        subject=f"{where}.name",
                    )
                )
            problem = unit_problem(declaration)
            if problem is not None:
                findings.append(Finding.of("TRF-O001", f"{where}.unit {problem}", subject=f"{where}.unit"))
            for number, label in enumerate(declaration.labels):
                problem = label_problem(label)
                if problem is not None:
                    findings.append(
                        Finding.of(
                            "TRF-O002", f"{where}.labels[{number}] {problem}", subject=f"{where}.labels"
                        )
                    )
            if declaration.name in seen:
                findings.append(
                    Finding.of(
                        "TRF-O003", f"{where}.name {declaration.name!r} is declared twice", subject=where
                    )
                )
            seen.add(declaration.name)
        return findings

    # -- prepare: the declarations of this instance's module ------------------

    def declarations(self, module: str, folder: Path) -> tuple[MetricDeclaration, ...]:
        """The module's declared metrics, read from its manifest once per file version."""
        path = folder / MANIFEST_FILE
        try:
            status = path.stat()
        except OSError:
            return ()
        key = (module, str(path), status.st_mtime_ns, status.st_size)
        with self._lock:
            cached = self._declared.get(key)
        if cached is not None:
            return cached
        try:
            raw = json.loads(path.read_text(encoding="utf-8")).get("metrics") or []
            declared = tuple(DECLARATIONS.validate_python(raw))
        except (OSError, ValueError, ValidationError, AttributeError) as error:
            log.warning("module %s: metrics declarations unreadable, none recorded: %s", module, error)
            declared = ()
        with self._lock:
            self._declared[key] = declared
        return declared

    def prepare(self, facts: InstanceFacts) -> MetricsState:
        declared = self.declarations(facts.module, facts.folder)
        store = self.store if self.store is not None else MetricsStore(process="trial")
        return MetricsState(facts.tenant, store.declare(facts.module, declared))

    # -- the host functions ---------------------------------------------------

    def functions(self) -> dict[str, HostFunction]:
        return {
            "add": hostcall("metrics.add", returns_result=True)(self.add),
            "set": hostcall("metrics.set", returns_result=True)(self.set),
            "observe": hostcall("metrics.observe", returns_result=True)(self.observe),
        }

    def _record(self, operation: str, name: str, value: float, labels: list[tuple[str, str]]) -> Any:
        context = current_call()
        state = self.state(context)
        series = state.metrics.get(name)
        if series is None:
            return host_error(
                "invalid-argument",
                f"module {context.module} declares no metric {name!r} in its manifest's `metrics`",
            )
        value = float(value)
        if isinstance(series, str):
            return host_error("invalid-argument", f"metric {name!r} of module {context.module}: {series}")
        if not finite(value):
            return host_error("invalid-argument", f"metric {name!r}: {value} is not a finite number")
        try:
            key = series.key(state.tenant, labels)
            if operation == "add":
                series.add(key, value)
            elif operation == "set":
                series.set(key, value)
            else:
                series.observe(key, value)
        except RecordingRefused as error:
            return host_error("invalid-argument", str(error))
        return None

    def add(self, name: str, value: float, labels: list[tuple[str, str]]) -> Any:
        return self._record("add", name, value, labels)

    def set(self, name: str, value: float, labels: list[tuple[str, str]]) -> Any:
        return self._record("set", name, value, labels)

    def observe(self, name: str, value: float, labels: list[tuple[str, str]]) -> Any:
        return self._record("observe", name, value, labels)
