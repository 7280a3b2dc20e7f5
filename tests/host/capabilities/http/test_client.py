"""Outgoing requests: a total time cap, no hop-by-hop or framing headers from the module,
credentials kept to their origin, and metadata addresses never reachable."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.host.capabilities_http_peer import Peer, http_peer
from trafi_host.capabilities.http.client import send_checked
from trafi_host.capabilities.http.grant import NetworkGrant
from trafi_host.capabilities.http.policy import NetworkAllowlist, NetworkDenied, parse_target


def local(*ports: int) -> NetworkAllowlist:
    return NetworkAllowlist(
        [NetworkGrant(host="127.0.0.1", ports=list(ports), schemes=["http"], reason="the test peer")]
    )


def test_a_peer_that_drips_is_cut_at_the_total_time_cap() -> None:
    with http_peer() as peer:
        started = time.monotonic()
        with pytest.raises(httpx.TimeoutException):
            send_checked(local(peer.port), "GET", peer.url("/drip"), [], b"", 1.0, 1 << 20)
        # 200 bytes at 0.2 s would take 40 s; the cap is the whole exchange (one slow
        # read may end just after it), whatever the machine's load.
        assert time.monotonic() - started < 10


def test_framing_and_hop_by_hop_headers_from_the_module_are_dropped() -> None:
    with http_peer() as peer:
        sent = [
            ("Transfer-Encoding", "chunked"),
            ("Content-Length", "5"),
            ("Connection", "close, x-secret"),
            ("Host", "evil.example"),
            ("TE", "trailers"),
            ("Upgrade", "websocket"),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Authorization", "Basic eA=="),
            ("X-Kept", "yes"),
        ]
        response = send_checked(local(peer.port), "GET", peer.url("/headers"), sent, b"", 5.0, 1 << 20)
    received = dict(json.loads(response.body))
    assert received["x-kept"] == "yes"
    assert received["host"] == f"127.0.0.1:{peer.port}"
    for name in ("transfer-encoding", "te", "upgrade", "keep-alive", "proxy-authorization"):
        assert name not in received, name
    assert received.get("connection", "") != "close, x-secret"


def redirecting(peer: Peer, to: str) -> str:
    return peer.url(f"/redirect?to={to}")


def test_credentials_stay_with_their_origin_across_redirects() -> None:
    with http_peer() as first, http_peer() as second:
        allow = local(first.port, second.port)
        credentials = [("Authorization", "Bearer s3cret"), ("Cookie", "session=abc"), ("X-Kept", "yes")]
        same = send_checked(allow, "GET", redirecting(first, "/headers"), credentials, b"", 5.0, 1 << 20)
        assert dict(json.loads(same.body))["authorization"] == "Bearer s3cret"
        other = send_checked(
            allow, "GET", redirecting(first, second.url("/headers")), credentials, b"", 5.0, 1 << 20
        )
    received = dict(json.loads(other.body))
    assert "authorization" not in received and "cookie" not in received
    assert received["x-kept"] == "yes"


@pytest.mark.parametrize("host", ["169.254.169.254", "169.254.10.1", "fd00:ec2::254", "100.100.100.200"])
def test_metadata_and_link_local_addresses_are_never_reachable(host: str) -> None:
    grant = NetworkGrant(host=host, ports=[80], schemes=["http"], allow_private=True, reason="tries")
    allowlist = NetworkAllowlist([grant])
    url = f"http://[{host}]/" if ":" in host else f"http://{host}/"
    target, matched = allowlist.match(url)
    with pytest.raises(NetworkDenied, match="never reachable"):
        allowlist.addresses(target, matched)


def test_a_named_private_address_is_still_reachable() -> None:
    allowlist = local(8080)
    target, grant = allowlist.match("http://127.0.0.1:8080/")
    assert [str(a) for a in allowlist.addresses(target, grant)] == ["127.0.0.1"]
    assert parse_target("http://127.0.0.1:8080/x").path == "/x"
