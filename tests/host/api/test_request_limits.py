"""Request limits: refused from the headers before the body is read, or cut off while it streams."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import api_keys, install_modules
from trafi_host.api import create_app
from trafi_host.api.module_proxy import UNSERVED_BODY_BYTES
from trafi_host.api.request_limits import DEFAULT_MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADERS
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project
from trafi_host.runtime.body_caps import LIST_U8_CEILING, ONE_COPY_DEFAULT

MB = 1 << 20
CHUNK = 64 * 1024


@pytest.fixture
def api(sqlite_project: Project) -> Iterator[TestClient]:
    key = api_keys(sqlite_project.database_url(), "acme")["acme"]
    with TestClient(create_app(sqlite_project)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def test_a_content_length_over_the_commerce_cap_is_413_before_reading(api: TestClient) -> None:
    response = api.post(
        "/api/commerce/products",
        content=b"x" * (DEFAULT_MAX_BODY_BYTES + 1),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {"error": f"request body larger than {DEFAULT_MAX_BODY_BYTES} bytes"}


def test_a_body_at_the_cap_reaches_the_route(api: TestClient) -> None:
    body = b'{"sku": "A", "name": "A", "price_cents": 1}'
    padded = body + b" " * (DEFAULT_MAX_BODY_BYTES - len(body))
    response = api.post(
        "/api/commerce/products", content=padded, headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text


def test_the_module_route_has_its_own_larger_cap(api: TestClient) -> None:
    # Over the commerce cap but under the module one: no 413 (404: there is no such module).
    response = api.post("/api/modules/ghost/x", content=b"x" * (DEFAULT_MAX_BODY_BYTES * 2))
    assert response.status_code == 404
    # A module not served here gets the smallest module cap: its body is refused anyway.
    response = api.post("/api/modules/ghost/x", content=b"x" * (UNSERVED_BODY_BYTES + 1))
    assert response.status_code == 413
    assert response.json() == {"error": f"request body larger than {UNSERVED_BODY_BYTES} bytes"}


@pytest.mark.parametrize("value", ["12abc", "-1", "1, 2"])
def test_a_malformed_content_length_is_400(api: TestClient, value: str) -> None:
    response = api.post("/api/commerce/products", content=b"{}", headers={"content-length": value})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid Content-Length header"}


def test_too_many_headers_is_431(api: TestClient) -> None:
    headers = {f"x-extra-{n}": "1" for n in range(MAX_HEADERS + 1)}
    response = api.get("/api/commerce/products", headers=headers)
    assert response.status_code == 431
    assert response.json() == {"error": f"more than {MAX_HEADERS} request headers"}


def test_headers_too_large_is_431(api: TestClient) -> None:
    response = api.get("/api/commerce/products", headers={"x-big": "x" * MAX_HEADER_BYTES})
    assert response.status_code == 431
    assert response.json() == {"error": f"request headers larger than {MAX_HEADER_BYTES} bytes"}


def _drive(app: Any, path: str, total: int, content_length: bool, key: str) -> tuple[int, bytes, int]:
    """Send `total` bytes to `path` in 64 KiB chunks straight into the ASGI app.

    Returns the status, the response body and how many bytes the app asked for:
    a TestClient would join the whole body in memory before the app saw it.
    """
    chunk = b"x" * CHUNK
    sent = 0
    headers = [
        (b"host", b"test"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {key}".encode()),
    ]
    if content_length:
        headers.append((b"content-length", str(total).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    status = 0
    body = b""

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent >= total:
            return {"type": "http.disconnect"}
        sent += CHUNK
        return {"type": "http.request", "body": chunk, "more_body": sent < total}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return status, body, sent


@pytest.mark.parametrize(
    ("path", "content_length", "cap"),
    [
        ("/api/modules/hello/v1/hits", True, LIST_U8_CEILING.request),
        ("/api/modules/hello/v1/hits", False, LIST_U8_CEILING.request),
        ("/api/modules/worldkit/echo", True, ONE_COPY_DEFAULT.request),
        ("/api/modules/worldkit/echo", False, ONE_COPY_DEFAULT.request),
        ("/api/commerce/products", True, DEFAULT_MAX_BODY_BYTES),
        ("/api/commerce/products", False, DEFAULT_MAX_BODY_BYTES),
    ],
    ids=[
        "module-0.1-content-length",
        "module-0.1-chunked",
        "module-0.3-content-length",
        "module-0.3-chunked",
        "commerce-content-length",
        "commerce-chunked",
    ],
)
def test_a_100_mb_body_costs_no_more_than_its_cap_in_memory(
    sqlite_project: Project, hello_dir: Path, worldkit_dir: Path, path: str, content_length: bool, cap: int
) -> None:
    # An authenticated call to a running module: the route itself reads the body.
    install_modules(sqlite_project, hello_dir, worldkit_dir)
    key = api_keys(sqlite_project.database_url(), "acme")["acme"]
    host = ModuleHost(sqlite_project)
    try:
        host.reconcile()
        app = create_app(sqlite_project, host)
        app.state.host = host  # what the lifespan does; _drive calls the app without one
        tracemalloc.start()
        try:
            status, body, read = _drive(app, path, 100 * MB, content_length, key)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        host.close()
    assert status == 413, body
    assert b"request body larger than" in body
    # Refused from Content-Length before one chunk is read; else cut off at the first chunk past the cap.
    assert read == (0 if content_length else cap + CHUNK)
    # Generous: the cap plus a few chunks and the app's own allocations, far from 100 MB.
    assert peak < cap + 8 * MB, f"peak {peak / MB:.1f} MB"
    print(f"{path} content-length={content_length}: peak {peak / MB:.2f} MB, read {read} bytes")
