"""Body caps per world, through the real proxy: a world-0.3.0 module's bodies (one copy across the
boundary) may be 8 MiB each way by default or what `host.maxRequestBytes` / `host.maxResponseBytes`
say; a world-0.1 module's stay at 1 MiB in and 1.5 MiB out, what `list<u8>` carries. One byte over
is a 413 naming the module and its world (the module never called) or a 502 `oversized-response`
(the module serving on)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.conftest import api_keys, install_modules
from trafi_host.api import create_app
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project
from trafi_host.project.config import HostSettings
from trafi_host.runtime.body_caps import (
    BOUNDARY_BYTES,
    LIST_U8_CEILING,
    MAX_ONE_COPY_BODY_BYTES,
    ONE_COPY_DEFAULT,
    BodyCaps,
)

MIB = 1 << 20
EVERY_BYTE = bytes(range(256))


def body_of(size: int) -> bytes:
    return (EVERY_BYTE * (size // 256 + 1))[:size]


def serve(project: Project) -> Iterator[TestClient]:
    key = api_keys(project.database_url(), "acme")["acme"]
    with TestClient(create_app(project)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def host_of(client: TestClient) -> ModuleHost:
    host: ModuleHost = client.app.state.host  # type: ignore[attr-defined]
    return host


@pytest.fixture
def client(
    sqlite_project: Project, hello_dir: Path, testkit_dir: Path, worldkit_dir: Path
) -> Iterator[TestClient]:
    install_modules(sqlite_project, hello_dir, testkit_dir, worldkit_dir)
    yield from serve(sqlite_project)


def assert_serving(client: TestClient) -> None:
    small = client.post("/api/modules/worldkit/echo", content=b"still here")
    assert (small.status_code, small.content) == (200, b"still here")
    assert host_of(client).states["worldkit"].status == "loaded"


def test_a_4_mib_body_crosses_a_0_3_module_both_ways_within_its_deadline(client: TestClient) -> None:
    body = body_of(4 * MIB)
    response = client.post("/api/modules/worldkit/echo", content=body)
    assert response.status_code == 200, response.text[:200]  # not 504: inside its 10 s deadline
    assert response.content == body


def test_a_0_3_module_takes_and_answers_a_body_at_each_cap(client: TestClient) -> None:
    at_cap = client.post("/api/modules/worldkit/echo", content=body_of(ONE_COPY_DEFAULT.request))
    assert at_cap.status_code == 200 and len(at_cap.content) == ONE_COPY_DEFAULT.request
    answered = client.get("/api/modules/worldkit/sized", params={"bytes": ONE_COPY_DEFAULT.response})
    assert answered.status_code == 200 and answered.content == body_of(ONE_COPY_DEFAULT.response)


def test_a_request_one_byte_over_a_0_3_cap_is_413_naming_it_and_never_reaches_the_module(
    client: TestClient,
) -> None:
    calls = host_of(client).runtime.stats.calls
    over = body_of(ONE_COPY_DEFAULT.request + 1)
    named = {
        "error": f"request body larger than {ONE_COPY_DEFAULT.request} bytes, "
        "the limit of module worldkit (world 0.3.0)"
    }
    declared = client.post("/api/modules/worldkit/echo", content=over)
    assert (declared.status_code, declared.json()) == (413, named)
    # Without Content-Length the body is counted as it streams and cut off at the cap.
    chunked = client.post("/api/modules/worldkit/echo", content=iter([over[: 4 * MIB], over[4 * MIB :]]))
    assert (chunked.status_code, chunked.json()) == (413, named)
    assert host_of(client).runtime.stats.calls == calls
    assert_serving(client)


def test_a_response_one_byte_over_a_0_3_cap_is_502_and_the_module_serves_on(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        over = client.get("/api/modules/worldkit/sized", params={"bytes": ONE_COPY_DEFAULT.response + 1})
    assert over.status_code == 502
    assert over.json()["error"] == "module worldkit failed (oversized-response); see the host log"
    assert len(over.content) < 1000  # none of the module's body
    assert f"the limit of world 0.3.0 is {ONE_COPY_DEFAULT.response}" in caplog.text
    assert_serving(client)


def test_0_1_modules_keep_their_caps_when_the_operator_raises_the_config(
    sqlite_project: Project, hello_dir: Path, testkit_dir: Path, worldkit_dir: Path
) -> None:
    install_modules(sqlite_project, hello_dir, testkit_dir, worldkit_dir)
    config = sqlite_project.load_config()
    config.host.max_request_bytes = config.host.max_response_bytes = MAX_ONE_COPY_BODY_BYTES
    sqlite_project.save_config(config)
    for client in serve(sqlite_project):
        caps = {name: image.body_caps for name, image in host_of(client).images.items()}
        assert caps["hello"] == caps["testkit"] == LIST_U8_CEILING
        assert (LIST_U8_CEILING.request, LIST_U8_CEILING.response) == (MIB, BOUNDARY_BYTES)
        assert caps["worldkit"] == BodyCaps(MAX_ONE_COPY_BODY_BYTES, MAX_ONE_COPY_BODY_BYTES)
        over = client.post("/api/modules/hello/v1/hits", content=b"x" * (MIB + 1))
        limit = f"{MIB} bytes, the limit of module hello (world 0.1.0)"
        assert (over.status_code, over.json()) == (413, {"error": f"request body larger than {limit}"})
        # The response cap is enforced as the operator's lower one is, below (a 1.5 MiB `list<u8>`
        # answer takes longer than testkit's 1 s deadline on a busy machine).
        assert client.get("/api/modules/hello/v1/hits").status_code == 200
        # The most the config takes crosses a 0.3.0 module both ways (in worldkit's 160 MiB).
        largest = body_of(MAX_ONE_COPY_BODY_BYTES)
        echoed = client.post("/api/modules/worldkit/echo", content=largest)
        assert echoed.status_code == 200 and echoed.content == largest


@pytest.mark.parametrize("key", ["maxRequestBytes", "maxResponseBytes"])
def test_the_config_refuses_a_cap_past_what_a_module_can_hold(key: str) -> None:
    assert HostSettings.model_validate({key: MAX_ONE_COPY_BODY_BYTES}) is not None
    with pytest.raises(ValidationError, match=f"less than or equal to {MAX_ONE_COPY_BODY_BYTES}"):
        HostSettings.model_validate({key: MAX_ONE_COPY_BODY_BYTES + 1})


def test_the_operator_sets_the_0_3_caps_and_can_only_lower_the_0_1_ones(
    sqlite_project: Project,
    hello_dir: Path,
    testkit_dir: Path,
    worldkit_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_modules(sqlite_project, hello_dir, testkit_dir, worldkit_dir)
    config = sqlite_project.load_config()
    config.host.max_request_bytes = 2 * MIB
    config.host.max_response_bytes = 256 << 10
    sqlite_project.save_config(config)
    for client in serve(sqlite_project):
        caps = {name: image.body_caps for name, image in host_of(client).images.items()}
        assert (caps["worldkit"].request, caps["worldkit"].response) == (2 * MIB, 256 << 10)
        # 0.1: its request ceiling (under the operator's 2 MiB), the operator's lower response cap.
        assert (caps["hello"].request, caps["hello"].response) == (LIST_U8_CEILING.request, 256 << 10)
        assert BOUNDARY_BYTES > 256 << 10

        over = client.post("/api/modules/worldkit/echo", content=body_of(2 * MIB + 1))
        assert (
            over.status_code == 413 and "2097152 bytes, the limit of module worldkit" in over.json()["error"]
        )
        assert client.get("/api/modules/worldkit/sized", params={"bytes": 256 << 10}).status_code == 200
        assert client.get("/api/modules/worldkit/sized", params={"bytes": (256 << 10) + 1}).status_code == 502
        assert client.get("/api/modules/testkit/huge", params={"bytes": 256 << 10}).status_code == 200
        with caplog.at_level(logging.ERROR):
            old_over = client.get("/api/modules/testkit/huge", params={"bytes": (256 << 10) + 1})
        assert (old_over.status_code, old_over.json()["kind"]) == (502, "oversized-response")
        assert "the limit of world 0.1.0 is 262144" in caplog.text
        assert_serving(client)
