"""docs/commerce.md: the whole-order example runs as written against a real host."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import REPO, api_keys
from trafi_host.api import create_app
from trafi_host.db import Database
from trafi_host.events.outbox import recent_events
from trafi_host.project import Project

DOC = REPO / "docs" / "commerce.md"


def test_the_whole_order_example_runs(sqlite_project: Project) -> None:
    key = api_keys(sqlite_project.database_url(), "acme")["acme"]
    block = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert block is not None
    with TestClient(create_app(sqlite_project), base_url="http://localhost:8000/api/commerce") as client:
        client.headers["Authorization"] = f"Bearer {key}"
        exec(compile(block.group(1), str(DOC), "exec"), {"client": client})
    with Database(sqlite_project.database_url()) as database, database.session() as session:
        types = [event.type for event in reversed(recent_events(session, "acme"))]
    assert types == [
        "product.created",
        "customer.created",
        "order.created",
        "payment.created",
        "payment.completed",
        "order.status-changed",
        "order.status-changed",
    ]
