"""`permissions.core`: a scope this host does not have is a finding with a did-you-mean."""

from __future__ import annotations

from pathlib import Path

from tests.host.capabilities.grant_checks import manifest_with
from trafi_host.capabilities.commerce.host import CommerceCapability


def test_an_unknown_scope_is_a_finding_that_suggests_the_right_one(tmp_path: Path) -> None:
    manifest = manifest_with({"core": [{"scope": "order:read", "reason": "Reads totals."}]})
    [finding] = CommerceCapability().configure(manifest, tmp_path)
    assert finding.rule == "TRF-C001"
    assert "'order:read' is not a scope of this host; did you mean 'orders:read'?" in finding.message


def test_known_scopes_are_fine(tmp_path: Path) -> None:
    manifest = manifest_with(
        {"core": [{"scope": s, "reason": "Needs it."} for s in ("orders:read", "customers:read")]}
    )
    assert CommerceCapability().configure(manifest, tmp_path) == []
