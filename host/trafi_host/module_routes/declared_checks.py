"""What install checks of a module's declared routes once its first start has read them.

Routes a request could not be told apart by are refused (`RouteConflict`): two
of one method whose paths differ only in parameter names. Two modules never
share a path: each serves below its own `/api/modules/<name>/` and names are
unique in a store, so a conflict is always within one module's list. An
`apiVersions` entry naming a version no route has is a warning (TRF-A001).
"""

from __future__ import annotations

from ..manifest.model import Manifest
from ..runtime.declarations import Declarations
from ..validation.findings import Finding
from .access import declares_routes
from .table import RouteTable


def declared_route_findings(manifest: Manifest, declarations: Declarations) -> list[Finding]:
    """Findings on the declared routes; raises `RouteConflict` for routes that cannot be served."""
    served = {route.version for route in declarations.routes}
    if declares_routes(manifest.wit_version):
        RouteTable.build(manifest.name, declarations.routes)
        why = "the module declares no route of version {version}"
    else:
        why = f"a module of world {manifest.wit_version} declares no routes (the `routes` export is 0.3.0's)"
    findings: list[Finding] = []
    for name, version in sorted(manifest.api_versions.items()):
        if name not in served:
            findings.append(
                Finding.of(
                    "TRF-A001",
                    f"apiVersions.{name}: {why.format(version=name)}",
                    subject=f"apiVersions.{name}",
                )
            )
        if version.successor is not None and version.successor not in served:
            findings.append(
                Finding.of(
                    "TRF-A001",
                    f"apiVersions.{name}.successor: {why.format(version=version.successor)}",
                    subject=f"apiVersions.{name}.successor",
                )
            )
    return findings
