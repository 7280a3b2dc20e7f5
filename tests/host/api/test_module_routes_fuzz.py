"""schemathesis against the live OpenAPI document with modules in it: the core's operations, the
declared routes of `routekit` (world 0.3.0) and hello's catch-all (world 0.1.0).

Valid and invalid data, a bounded number of examples per operation and a derandomized
Hypothesis (the same run every time), with an API key of every permission. Checks: no
5xx, and every answer that the document describes matches its schema (a declared route's
typed response, the core's models).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.python.asgi import shutdown_lifespans

from tests.conftest import api_keys, install_modules
from tests.host.api.test_declared_routes import ROUTEKIT
from trafi_host.api import create_app
from trafi_host.build import build_if_stale
from trafi_host.project import Project

pytestmark = pytest.mark.timeout(1200)
# Per operation and mode: enough to reach each typed body's fields and bad values,
# few enough for a suite run on two shared cores.
MAX_EXAMPLES = 10
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _checker(operation: schemathesis.APIOperation, mode: str, key: str) -> Callable[[], None]:
    @FUZZ
    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {key}"},
            checks=[not_a_server_error, response_schema_conformance],
        )

    return check


def test_module_and_core_operations_answer_no_server_error_and_match_their_schemas(
    sqlite_project: Project, hello_dir: Path
) -> None:
    build_if_stale(ROUTEKIT)
    install_modules(sqlite_project, hello_dir, ROUTEKIT)
    key = api_keys(sqlite_project.database_url(), "acme")["acme"]
    app = create_app(sqlite_project)
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
                    assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
                except Exception as error:  # noqa: BLE001 - every operation is tried; all failures reported
                    failures.append(f"{operation.label} ({mode}): {error}")
    finally:
        shutdown_lifespans()
    assert {
        "GET /api/modules/routekit/v2/items/{item_id}",
        "POST /api/modules/routekit/v2/items",
        "DELETE /api/modules/routekit/v2/items/{item_id}",
        "GET /api/modules/hello/{path}",
        "POST /api/commerce/orders",
        "GET /health",
    } <= set(labels), labels
    assert not failures, "\n\n".join(failures)
