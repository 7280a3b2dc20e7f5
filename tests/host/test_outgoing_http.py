"""trafi:host/http: only what permissions.network allows, checked again at every redirect."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.host.capabilities_http_peer import Peer, http_peer
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.manifest import Manifest, load_manifest
from trafi_host.manifest.model import NetworkGrant
from trafi_host.runtime import ModuleImage, ModuleRequest, ModuleRuntime, Principal


@pytest.fixture
def peer() -> Iterator[Peer]:
    with http_peer() as running:
        yield running


@pytest.fixture
def other_peer() -> Iterator[Peer]:
    with http_peer() as running:
        yield running


@pytest.fixture
def incidents() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def runtime(shared_artifact_cache: Path, incidents: list[tuple[str, str]]) -> Iterator[ModuleRuntime]:
    with ModuleRuntime(
        shared_artifact_cache, MemoryKv(), on_incident=lambda m, t, kind, d: incidents.append((kind, d))
    ) as runtime:
        yield runtime


def with_network(manifest: Manifest, *grants: dict[str, Any]) -> Manifest:
    network = [NetworkGrant.model_validate({"reason": "test peer", **grant}) for grant in grants]
    return manifest.model_copy(
        update={"permissions": manifest.permissions.model_copy(update={"network": network})}
    )


def image_for(runtime: ModuleRuntime, fetcher_dir: Path, *grants: dict[str, Any]) -> ModuleImage:
    manifest = with_network(load_manifest(fetcher_dir), *grants)
    return runtime.load_image(manifest, fetcher_dir)


def fetch(runtime: ModuleRuntime, image: ModuleImage, url: str, timeout_ms: int = 3000) -> dict[str, Any]:
    request = ModuleRequest(
        "GET", "/fetch", "acme", Principal("k"), query=(("url", url), ("timeout", str(timeout_ms)))
    )
    response = asyncio.run(runtime.call_http(image, request))
    assert response.status == 200, response.body
    data: dict[str, Any] = json.loads(response.body)
    return data


def test_an_allowed_request_goes_through(runtime: ModuleRuntime, fetcher_dir: Path, peer: Peer) -> None:
    image = image_for(runtime, fetcher_dir, {"host": "127.0.0.1", "ports": [peer.port], "schemes": ["http"]})
    result = fetch(runtime, image, peer.url("/ok"))
    assert result == {
        "ok": True,
        "status": 200,
        "url": peer.url("/ok"),
        "length": 19,
        "body": "hello from the peer",
    }


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://example.invalid/", "not in permissions.network"),
        ("https://127.0.0.1:{port}/ok", "scheme 'https' is not allowed"),
        ("http://127.0.0.1:1/ok", "port 1 is not allowed"),
        ("ftp://127.0.0.1/ok", "is not http or https"),
        ("http://user:pw@127.0.0.1:{port}/ok", "credentials in the URL"),
        ("http://169.254.169.254/latest/meta-data/", "not in permissions.network"),
    ],
)
def test_requests_outside_the_allowlist_are_refused(
    runtime: ModuleRuntime, fetcher_dir: Path, peer: Peer, url: str, reason: str
) -> None:
    image = image_for(runtime, fetcher_dir, {"host": "127.0.0.1", "ports": [peer.port], "schemes": ["http"]})
    result = fetch(runtime, image, url.format(port=peer.port))
    assert result["ok"] is False
    assert result["error"].startswith("AccessDenied")
    assert reason in result["error"]
    assert peer.hits == []


def test_a_name_resolving_to_loopback_is_refused(
    runtime: ModuleRuntime, fetcher_dir: Path, peer: Peer
) -> None:
    image = image_for(runtime, fetcher_dir, {"host": "localhost", "ports": [peer.port], "schemes": ["http"]})
    result = fetch(runtime, image, f"http://localhost:{peer.port}/ok")
    assert result["ok"] is False
    assert "resolves to 127.0.0.1, a private or special address" in result["error"]
    assert peer.hits == []


def test_allow_private_lets_a_named_service_through(
    runtime: ModuleRuntime, fetcher_dir: Path, peer: Peer
) -> None:
    grant = {"host": "localhost", "ports": [peer.port], "schemes": ["http"], "allowPrivate": True}
    image = image_for(runtime, fetcher_dir, grant)
    result = fetch(runtime, image, f"http://localhost:{peer.port}/host")
    assert result["ok"] is True
    # Connected to the checked address, with the name kept for the Host header.
    assert result["body"] == f"localhost:{peer.port}"


def test_every_redirect_is_checked_again(
    runtime: ModuleRuntime, fetcher_dir: Path, peer: Peer, other_peer: Peer, incidents: list[tuple[str, str]]
) -> None:
    image = image_for(runtime, fetcher_dir, {"host": "127.0.0.1", "ports": [peer.port], "schemes": ["http"]})
    allowed = fetch(runtime, image, peer.url("/redirect?to=/ok"))
    assert allowed["ok"] is True and allowed["url"] == peer.url("/ok")
    escape = fetch(runtime, image, peer.url(f"/redirect?to={other_peer.url('/secret')}"))
    assert escape["ok"] is False
    assert f"port {other_peer.port} is not allowed" in escape["error"]
    metadata = fetch(runtime, image, peer.url("/redirect?to=http://169.254.169.254/latest/meta-data/"))
    assert metadata["ok"] is False
    assert other_peer.hits == []
    assert [kind for kind, _ in incidents] == ["denied", "denied"]


def test_oversized_responses_and_slow_peers_are_cut(
    runtime: ModuleRuntime, fetcher_dir: Path, peer: Peer
) -> None:
    image = image_for(runtime, fetcher_dir, {"host": "127.0.0.1", "ports": [peer.port], "schemes": ["http"]})
    big = fetch(runtime, image, peer.url("/big"))
    assert big["ok"] is False and big["error"].startswith("LimitExceeded")
    slow = fetch(runtime, image, peer.url("/slow"), timeout_ms=300)
    assert slow["ok"] is False and slow["error"].startswith("Unavailable") and "timed out" in slow["error"]


def test_a_component_with_http_but_no_network_grant_is_blocked(
    shared_artifact_cache: Path, fetcher_dir: Path, tmp_path: Path
) -> None:
    import shutil

    from trafi_host.runtime.artifacts import ArtifactCache
    from trafi_host.runtime.engine import EngineSettings
    from trafi_host.validation import validate_module

    folder = tmp_path / "fetcher"
    shutil.copytree(fetcher_dir, folder)
    manifest_file = folder / "trafi-module.json"
    data = json.loads(manifest_file.read_text())
    del data["permissions"]  # a manifest that understates what the component imports
    manifest_file.write_text(json.dumps(data))
    report = validate_module(folder, ArtifactCache.for_settings(shared_artifact_cache, EngineSettings()))
    assert [(f.rule, f.subject) for f in report.blocking] == [("TRF-I006", "trafi:host/http@0.1.0")]
