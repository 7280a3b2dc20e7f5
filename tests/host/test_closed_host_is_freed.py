"""A host that has shut down is freed: nothing of it outlives the app (its runtime, engine, pool).

The wasmtime linker owns the host functions from C, out of the collector's sight, and they
reach back to the host: unless closing the runtime deletes the linker, every runtime ever
closed (a trial start at install, each test's app) stays in memory for good, a cycle no
collection can free.
"""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import api_keys, install_modules
from trafi_host.api import create_app
from trafi_host.project import Project


def test_a_shut_down_app_frees_its_host_and_runtime(sqlite_project: Project, listener_dir: Path) -> None:
    install_modules(sqlite_project, listener_dir)
    keys = api_keys(sqlite_project.database_url(), "acme")
    app = create_app(sqlite_project)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {keys['acme']}"
        created = client.post(
            "/api/commerce/products", json={"sku": "MUG-1", "name": "Mug", "price_cents": 1}
        )
        assert created.status_code == 201, created.text
        assert client.get("/api/modules/listener/v1/seen").json()["counts"] == {"product.created": 1}
        host = weakref.ref(app.state.host)
        runtime = weakref.ref(app.state.host.runtime)
    del app, client
    gc.collect()
    assert runtime() is None, "the shut-down app's module runtime is still referenced"
    assert host() is None, "the shut-down app's module host is still referenced"
