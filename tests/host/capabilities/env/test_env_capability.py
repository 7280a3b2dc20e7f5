"""`permissions.env`: the guest sees granted names with the operator's values, nothing else."""

from __future__ import annotations

from pathlib import Path

from tests.host.capabilities.grant_checks import manifest_with
from trafi_host.capabilities.base import InstanceFacts
from trafi_host.capabilities.env.host import EnvCapability


def test_only_granted_variables_with_operator_values() -> None:
    manifest = manifest_with({"env": [{"name": "ERP_TOKEN", "reason": "Authenticates to the ERP."}]})
    facts = InstanceFacts(
        module="shop-sync",
        version="1.0.0",
        tenant="acme",
        folder=Path("."),
        data_root=None,
        config={},
        env={"ERP_TOKEN": "t0k3n", "DATABASE_URL": "postgres://secret"},
        permissions=manifest.permissions,
        dependencies=frozenset(),
    )
    assert EnvCapability().prepare(facts).variables == (("ERP_TOKEN", "t0k3n"),)
