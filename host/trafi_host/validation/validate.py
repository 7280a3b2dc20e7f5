"""Run every check on a module folder and decide, applying the operator's overrides."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..capabilities.env.host import EnvCapability
from ..capabilities.registry import ALL, Capabilities
from ..errors import ExitCode, TrafiError
from ..manifest.load import load_manifest
from ..manifest.model import Manifest
from ..runtime.artifacts import ArtifactCache
from .dependency_scan import AdvisorySources, scan_dependencies
from .findings import Finding, Override, ValidationReport
from .import_audit import audit_imports, component_surface
from .package_checks import check_package
from .rules import RULES
from .source_checks import check_tree


class ValidationFailed(TrafiError):
    """Blocking findings that no override accepts."""

    exit_code = ExitCode.VALIDATION_BLOCKED

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        lines = "\n".join(f"  - {f.rule} {f.name} at {f.location}: {f.message}" for f in report.blocking)
        super().__init__(
            f"module {report.module} {report.version} failed security validation "
            f"({len(report.blocking)} blocking finding(s)):\n{lines}\n"
            "run `trafi module validate` for the full report; an operator may accept a rule "
            "with --allow RULE --reason TEXT"
        )


def check_overrides(overrides: Iterable[Override]) -> list[Override]:
    accepted = []
    for override in overrides:
        if override.rule not in RULES:
            raise TrafiError(f"--allow {override.rule}: no such rule (see docs/security.md)")
        if len(override.reason.strip()) < 10:
            raise TrafiError(f"--allow {override.rule} needs a --reason of at least 10 characters")
        accepted.append(override)
    return accepted


def check_grants(manifest: Manifest, module_dir: Path, capabilities: Capabilities = ALL) -> list[Finding]:
    """Every capability's own checks of what the manifest asks of it (its `configure` phase)."""
    findings: list[Finding] = []
    for capability in capabilities:
        findings += capability.configure(manifest, module_dir)
    return findings


def validate_module(
    module_dir: Path,
    artifacts: ArtifactCache,
    overrides: Iterable[Override] = (),
    advisories: AdvisorySources | None = None,
) -> ValidationReport:
    manifest = load_manifest(module_dir)
    accepted = check_overrides(overrides)
    findings: list[Finding] = check_package(module_dir)
    findings += check_grants(manifest, module_dir)
    source_dir = module_dir / manifest.build.source_dir
    env_names = [grant.name for grant in EnvCapability().grant(manifest.permissions)]
    findings += check_tree(source_dir, env_names)
    component, _ = artifacts.load(module_dir / manifest.entry.backend, manifest.name)
    findings += audit_imports(component_surface(component, artifacts.engine), manifest)
    findings += scan_dependencies(module_dir, advisories or AdvisorySources())
    allowed_rules = {override.rule for override in accepted}
    findings = [f.model_copy(update={"allowed": f.rule in allowed_rules}) for f in findings]
    return ValidationReport(
        module=manifest.name, version=manifest.version, findings=findings, overrides=accepted
    )
