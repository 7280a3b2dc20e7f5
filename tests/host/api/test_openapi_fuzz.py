"""schemathesis against the live OpenAPI document: every operation, valid and invalid data, no 5xx.

Runs on SQLite and PostgreSQL (the `project` fixture), with a real API key, a fixed
number of examples per operation and a derandomized Hypothesis, so a run is the same
run every time. No module is installed, so the document holds the core's routes only;
tests/host/api/test_module_routes_fuzz.py runs it with modules' routes in it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans

from tests.conftest import api_keys
from trafi_host.api import create_app
from trafi_host.project import Project

MAX_EXAMPLES = 25
# What schemathesis found before (issue 13, item 5), replayed ahead of the generated cases:
# fifteen or twenty-five random strings rarely hold a NUL, and random ids find no order.
KNOWN: dict[str, list[dict[str, Any]]] = {
    "POST /api/commerce/customers": [{"body": {"email": "nul@example.com", "name": "Ada\x00"}}],
    "POST /api/commerce/products": [
        {"body": {"sku": "NUL-1", "name": "Mug\x00", "price_cents": 1}},
        {"body": {"sku": "BOOL-1", "name": "Mug", "price_cents": False}},
    ],
    "GET /api/commerce/orders/{order_id}": [{"path_parameters": {"order_id": "ord_\x00"}}],
    "POST /api/commerce/payments": [{"body": {"order_id": "ord_\x00"}}],
}
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


def _checker(operation: schemathesis.APIOperation, mode: str, key: str) -> Callable[[], None]:
    @FUZZ
    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=[not_a_server_error])

    if mode == schemathesis.GenerationMode.POSITIVE:
        for known in KNOWN.get(operation.label, []):
            media_type = "application/json" if "body" in known else None
            check = example(case=operation.Case(media_type=media_type, **known))(check)
    return check


def test_no_operation_answers_a_server_error(project: Project) -> None:
    key = api_keys(project.database_url(), "acme")["acme"]
    app = create_app(project)
    started = time.monotonic()
    failures: list[str] = []
    labels: list[str] = []
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        for result in schema.get_all_operations():
            operation = result.ok()
            labels.append(operation.label)
            for mode in MODES:
                try:
                    _checker(operation, mode, key)()
                except Unsatisfiable:
                    # Nothing in it can be made invalid (no body, free-form strings): no negative case.
                    assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
                except Exception as error:  # noqa: BLE001 - every operation is tried; all failures reported
                    failures.append(f"{operation.label} ({mode}): {error}")
    finally:
        shutdown_lifespans()
    assert len(labels) >= 20, labels
    assert {"POST /api/commerce/orders", "GET /api/modules", "GET /health"} <= set(labels)
    # The proxy's generic route is not an operation: each module served has its own.
    assert not [label for label in labels if label.startswith("GET /api/modules/{name}")]
    assert set(KNOWN) <= set(labels)
    assert not failures, "\n\n".join(failures)
    print(f"{len(labels)} operations x {len(MODES)} modes in {time.monotonic() - started:.1f} s")
