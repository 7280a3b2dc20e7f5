"""`permissions.network`: hosts that cannot mean what they say are findings; the state is the allowlist."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.host.capabilities.grant_checks import manifest_with
from tests.host.capabilities.harness import call_host_function
from trafi_host.capabilities.http.host import HttpCapability
from trafi_host.wit_values import record


def entry(host: str) -> dict[str, object]:
    return {"host": host, "reason": "Syncs orders to the ERP."}


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("https://erp.example.com", "host name only"),
        ("erp.example.com/api", "host name only"),
        ("erp.example.com:8443", "host name only"),
        ("erp.*.example.com", "leading `*.`"),
        ("*.com", "top-level domain"),
        ("bad_host!", "not a valid host name"),
    ],
)
def test_a_meaningless_host_is_a_finding(host: str, problem: str, tmp_path: Path) -> None:
    manifest = manifest_with({"network": [entry("api.example.com"), entry(host)]})
    [finding] = HttpCapability().configure(manifest, tmp_path)
    assert finding.rule == "TRF-C001"
    assert finding.message.startswith(f"permissions.network[1].host {host!r}")
    assert problem in finding.message


@pytest.mark.parametrize("host", ["api.example.com", "*.example.com", "127.0.0.1", "[::1]", "localhost"])
def test_a_proper_host_is_fine(host: str, tmp_path: Path) -> None:
    assert HttpCapability().configure(manifest_with({"network": [entry(host)]}), tmp_path) == []


def test_without_a_grant_a_request_is_denied_and_reported() -> None:
    capability = HttpCapability()
    denied: list[str] = []
    request = record(method="GET", url="https://example.com/", headers=[], body=b"", timeout_ms=1000)
    result = call_host_function(capability, capability.send, request, denied=denied)
    assert result.tag == "access-denied"
    assert denied == ["http: no permissions.network for https://example.com/"]
