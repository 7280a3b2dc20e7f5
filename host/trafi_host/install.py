"""Installing a module from a local folder: validate, stage, compile, trial-start, move, register.

Nothing touches the project until every check has passed on the staged copy;
the move into place and the config write are each atomic, and a failing config
write puts the previous module folder back.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from .audit_log import AuditLog
from .capabilities.kv.backend import MemoryKv
from .compatibility import require_compatible
from .errors import ComponentError, TrafiError
from .manifest import load_manifest
from .manifest.model import Manifest
from .module_state import ModuleStates, project_module_states
from .permissions import PermissionEscalation, escalation, permission_items
from .project import ModuleEntry, Project
from .project.atomic import replace_dir
from .project.config import AllowedRule, ModuleSource
from .runtime import ModuleRuntime
from .runtime.artifacts import component_digest
from .sources.archive import extract_safely
from .validation.findings import Override, ValidationReport
from .validation.validate import ValidationFailed, check_overrides, validate_module

log = logging.getLogger("trafi.install")

# Build output and caches are not part of an installed module.
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".venv", "node_modules", ".trafi")


@dataclass(frozen=True)
class InstallResult:
    manifest: Manifest
    entry: ModuleEntry
    replaced: str | None  # the version that was installed before, if any
    report: ValidationReport


def install_from_path(
    project: Project,
    source: Path,
    runtime: ModuleRuntime,
    spec: str | None = None,
    overrides: list[Override] | None = None,
    audit: AuditLog | None = None,
    resolved: str | None = None,
    grant_new_permissions: bool = False,
) -> InstallResult:
    source = source.resolve()
    if source.is_file() and source.name.endswith((".tgz", ".tar.gz")):
        # Unpacked (checked) into staging; the staged folder is then installed as a folder.
        project.staging_dir.mkdir(parents=True, exist_ok=True)
        unpacked = project.staging_dir / f"unpacked-{uuid.uuid4().hex[:8]}"
        try:
            module_dir = extract_safely(source, unpacked)
            digest = component_digest(source)
            return install_from_path(
                project,
                module_dir,
                runtime,
                spec or str(source),
                overrides,
                audit,
                f"{source}#sha256={digest}",
            )
        finally:
            shutil.rmtree(unpacked, ignore_errors=True)
    if not source.is_dir():
        raise TrafiError(f"module source {source} is not a folder or a .tgz archive")
    manifest = load_manifest(source)
    require_compatible(manifest)
    component = source / manifest.entry.backend
    if not component.is_file():
        raise ComponentError(
            f"module {manifest.name}: entry.backend {manifest.entry.backend} does not exist in {source}; "
            f"run `trafi module build {source}` first"
        )
    config = project.load_config()
    previous = config.modules.get(manifest.name)
    widened: dict[str, str] = {}
    if previous is not None and previous.granted is not None:
        widened = escalation(manifest.permissions, previous.granted)
        if widened and not grant_new_permissions:
            listing = "\n".join(f"  + {item}  ({reason})" for item, reason in widened.items())
            raise PermissionEscalation(
                f"module {manifest.name} {manifest.version} asks for permissions not granted to "
                f"{previous.version}:\n{listing}\nreview them, then add again with --grant"
            )
    # Overrides given now, plus those an operator gave for earlier versions.
    accepted = check_overrides(
        [*(overrides or []), *(Override(rule=a.rule, reason=a.reason) for a in previous.allowed_rules)]
        if previous
        else (overrides or [])
    )

    project.staging_dir.mkdir(parents=True, exist_ok=True)
    staged = project.staging_dir / f"{manifest.name}-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(source, staged, ignore=_IGNORED, symlinks=True)
        staged_manifest = load_manifest(staged)
        # Security validation on the staged copy, before any of its code runs.
        report = validate_module(staged, runtime.artifacts, accepted, project.advisory_sources())
        if not report.passed:
            raise ValidationFailed(report)
        # Compile (cached by digest) and start once against throwaway state:
        # a component that is not for our world, or that fails in init, stops here.
        image = runtime.load_image(staged_manifest, staged, previous.config if previous else {})
        runtime.trial_start(image, MemoryKv())
        entry = ModuleEntry(
            version=manifest.version,
            enabled=previous.enabled if previous else True,
            source=ModuleSource(kind="path", spec=spec or str(source), resolved=resolved or str(source)),
            digest=image.digest,
            config=previous.config if previous else {},
            allowed_rules=_dedupe([AllowedRule(rule=o.rule, reason=o.reason) for o in accepted]),
            granted=manifest.permissions,
        )
        target = project.module_dir(manifest.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        backup = replace_dir(staged, target)
        try:
            config.modules[manifest.name] = entry
            project.save_config(config)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            if backup is not None:
                backup.rename(target)
            raise
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    log.info("installed %s %s from %s", manifest.name, manifest.version, source)
    if audit is not None:
        for override in overrides or []:
            used = any(f.allowed and f.rule == override.rule for f in report.findings)
            audit.record(
                manifest.name,
                "override-accepted",
                rule=override.rule,
                reason=override.reason,
                detail=f"version {manifest.version}; {'matched findings' if used else 'no finding matched'}",
            )
        if widened or previous is None:
            granted_items = widened or permission_items(manifest.permissions)
            audit.record(
                manifest.name,
                "permissions-granted",
                detail="; ".join(granted_items) or "none requested",
            )
        audit.record(
            manifest.name,
            "installed",
            detail=f"version {manifest.version} from {spec or source}; digest {entry.digest}",
        )
    return InstallResult(manifest, entry, previous.version if previous else None, report)


def _dedupe(rules: list[AllowedRule]) -> list[AllowedRule]:
    seen: dict[str, AllowedRule] = {}
    for rule in rules:
        seen.setdefault(rule.rule, rule)
    return list(seen.values())


def revalidate(project: Project, name: str, runtime: ModuleRuntime) -> ValidationReport:
    """Validation of the installed copy, with the overrides recorded for it."""
    entry = project.module_entry(name)
    overrides = [Override(rule=a.rule, reason=a.reason) for a in entry.allowed_rules]
    return validate_module(project.module_dir(name), runtime.artifacts, overrides, project.advisory_sources())


def set_enabled(
    project: Project,
    name: str,
    enabled: bool,
    runtime: ModuleRuntime | None = None,
    states: ModuleStates | None = None,
) -> ModuleEntry:
    """Persist the change (database first: it is what hosts follow) and mirror it in the config.

    Enabling re-runs validation (rules may have changed since install) when a runtime is given.
    """
    config = project.load_config()
    entry = project.module_entry(name)
    if enabled and runtime is not None:
        report = revalidate(project, name, runtime)
        if not report.passed:
            raise ValidationFailed(report)
    # Enabling is the operator's decision to lift a quarantine, too.
    quarantined = None if enabled else entry.quarantined
    if states is None:
        with project_module_states(project) as opened:
            opened.set(name, enabled, quarantined)
    else:
        states.set(name, enabled, quarantined)
    config.modules[name] = entry.model_copy(update={"enabled": enabled, "quarantined": quarantined})
    project.save_config(config)
    return config.modules[name]


def remove_module(project: Project, name: str) -> ModuleEntry:
    config = project.load_config()
    entry = project.module_entry(name)
    del config.modules[name]
    target = project.module_dir(name)
    trash = None
    if target.exists():
        trash = target.with_name(f".{name}.removed-{uuid.uuid4().hex[:8]}")
        target.rename(trash)
    try:
        project.save_config(config)
    except BaseException:
        if trash is not None:
            trash.rename(target)
        raise
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)
    with project_module_states(project) as states:
        states.remove(name)
    return entry
