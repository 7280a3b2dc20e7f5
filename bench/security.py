"""Security rows: the cost of the http import, of the validation pass on the example module (issue 3),
and of the run-time hardening checks (issue 12, bench/hardening.py)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import httpx

from tests.host.capabilities_http_peer import http_peer
from trafi_host.capabilities.http.grant import NetworkGrant
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.manifest.load import load_manifest
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal
from trafi_host.validation.dependency_scan import AdvisorySources
from trafi_host.validation.validate import validate_module

from . import hardening
from .fixtures import HELLO, REPO, built
from .report import Row

FETCHER = REPO / "tests" / "fixtures" / "modules" / "fetcher"


def _median_ms(action: object, times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def run(work: Path, quick: bool) -> list[Row]:
    times = 20 if quick else 200
    rows: list[Row] = []
    folder, manifest = built(FETCHER)
    runtime = ModuleRuntime(work / "security-cache", host_capabilities(MemoryKv()))
    try:
        with http_peer() as peer:
            grant = NetworkGrant(host="127.0.0.1", ports=[peer.port], schemes=["http"], reason="bench peer")
            permissions = manifest.permissions.model_copy(update={"network": [grant]})
            image = runtime.load_image(manifest.model_copy(update={"permissions": permissions}), folder)
            instance = runtime.instantiate(image, "t")
            request = image.world.request(
                ModuleRequest("GET", "/fetch", "t", Principal("k"), query=(("url", peer.url("/ok")),))
            )
            via_module = _median_ms(lambda: instance.handle(request, 5000), times)
            instance.close()
            with httpx.Client(trust_env=False) as client:
                direct = _median_ms(lambda: client.get(peer.url("/ok")), times)
    finally:
        runtime.close()
    rows.append(
        Row(
            "security",
            "module call doing one fetch through trafi:host/http",
            via_module,
            "ms",
            direct,
            "host GET with a reused httpx client",
            note="allowlist + resolve + new pinned connection per request",
        )
    )
    hello_folder, hello_manifest = built(HELLO)
    runtime = ModuleRuntime(work / "security-cache", host_capabilities(MemoryKv()))
    try:
        runtime.artifacts.load(hello_folder / hello_manifest.entry.backend, "hello")
        component = hello_folder / hello_manifest.entry.backend
        load_only = _median_ms(lambda: runtime.artifacts.load(component, "hello"), 10 if quick else 50)
        validate = _median_ms(
            lambda: validate_module(hello_folder, runtime.artifacts, (), AdvisorySources()),
            10 if quick else 50,
        )
    finally:
        runtime.close()
    rows.append(
        Row(
            "security",
            "validation pass on hello (source, imports, dependencies)",
            validate,
            "ms",
            load_only,
            "artifact load alone",
            note=f"manifest {load_manifest(hello_folder).name}; warm artifact cache",
        )
    )
    rows += hardening.run(work, quick)
    return rows
