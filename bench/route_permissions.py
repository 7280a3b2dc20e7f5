"""Scenario: what the per-route permission check adds to a module request.

One project with `routekit` (world 0.3.0, declared routes). The same request,
`GET /api/modules/routekit/v2/items/export` (declared permission
`routekit:admin`, a literal route beside `/v2/items/{item_id}`), goes through
the whole ASGI app (auth, proxy, module call) in two variants, interleaved in
blocks so that drift on a busy machine falls on both alike: checked (the
request matched against the declared routes and the route's permission
decided) and bypassed (the decision made once, before the run, and handed back
as is). The decision is also timed alone, with the resolved permissions the
module receives.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from fastapi.testclient import TestClient

from trafi_host.api import create_app, module_proxy
from trafi_host.auth.caller import Caller
from trafi_host.module_routes.access import Access
from trafi_host.permission_catalogue import module_permissions

from .fixtures import REPO, built, make_project
from .report import Row

ROUTEKIT = REPO / "tests" / "fixtures" / "modules" / "routekit"
ROUTE = "/api/modules/routekit/v2/items/export"


def _block_us(client: TestClient, key: str, times: int) -> float:
    """Median microseconds of `times` requests."""
    headers = {"Authorization": f"Bearer {key}"}
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        response = client.get(ROUTE, headers=headers)
        samples.append((time.perf_counter() - started) * 1e6)
        assert response.status_code == 200, response.text
    return statistics.median(samples)


def run(work: Path, quick: bool) -> list[Row]:
    built(ROUTEKIT)
    bench = make_project(work / "route-permissions", [ROUTEKIT])
    rounds, block = (3, 30) if quick else (10, 150)
    medians: dict[str, list[float]] = {"checked": [], "bypassed": []}
    checked = module_proxy._access
    with TestClient(create_app(bench.project)) as client:
        _block_us(client, bench.key, 20)  # warm: instance, key cache, route table
        host = client.app.state.host  # type: ignore[attr-defined]
        image = host.images["routekit"]
        decided = checked(image, "GET", "/v2/items/export")
        assert decided.permission == "routekit:admin" and decided.match is not None

        def bypassed(image: object, method: str, path: str) -> Access:
            return decided

        variants = [("checked", checked), ("bypassed", bypassed)]
        try:
            for index in range(rounds):
                for name, access in variants if index % 2 == 0 else variants[::-1]:
                    module_proxy._access = access  # type: ignore[assignment]
                    medians[name].append(_block_us(client, bench.key, block))
        finally:
            module_proxy._access = checked  # type: ignore[assignment]
        caller = Caller("k", "api-key", "bench", "bench", ("*",), "api-key", "k")
        alone = 2000 if quick else 20000
        own = module_permissions(image.manifest)
        started = time.perf_counter()
        for _ in range(alone):
            decided = checked(image, "GET", "/v2/items/export")
            held = caller.permissions_in(own)
            assert decided.permission in held
        decision_us = (time.perf_counter() - started) / alone * 1e6
        started = time.perf_counter()
        for _ in range(alone):
            caller.permissions_in(module_proxy.catalogue.names(host.images))
        resolved_us = (time.perf_counter() - started) / alone * 1e6
    value = {name: statistics.median(values) for name, values in medians.items()}
    requests = f"median of {rounds} blocks of {block} requests (ASGI, in process)"
    return [
        Row(
            "route permissions",
            "declared route, permission checked",
            value["checked"],
            "us",
            value["bypassed"],
            "same route, decision bypassed",
            "",
            f"adds {value['checked'] - value['bypassed']:+.0f} us; {requests}",
        ),
        Row("route permissions", "route match + permission decision alone (7 routes)", decision_us, "us"),
        Row(
            "route permissions",
            "resolved permissions for the principal alone (`*` caller)",
            resolved_us,
            "us",
        ),
    ]
