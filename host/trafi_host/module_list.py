"""What `trafi module list` reports: each installed module's version, status, source and compatibility.

The JSON form is a versioned, documented contract (`docs/module-list.schema.json`,
generated from these models): fields are only ever added within a
`schemaVersion`; renaming or removing one means a new version.

Status is the decision `lifecycle.status` makes for hosts too, worked out
without starting anything: `quarantined` and `disabled` come from the module
state; `failed` means it could not start as installed (unreadable manifest,
incompatible host version, a dependency cycle, or a dependency missing,
disabled, failed or out of range), or that a running host reported it failed
(an `init` that traps), with that host's reason. Load times come from the
hosts' reports too.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .compatibility import compatibility_problem
from .errors import TrafiError
from .lifecycle import ModuleStates, decide, project_module_states
from .lifecycle.status import Decision
from .load_reports import latest_reports
from .manifest.load import load_manifest
from .manifest.model import Manifest
from .project import Project
from .project.config import ModuleSource
from .updates.records import UpdateRecord, UpdateRecords

Status = Literal["enabled", "disabled", "failed", "quarantined"]


class LastUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fromVersion: str
    toVersion: str
    status: Literal["watching", "passed", "failed", "rolled-back"] = Field(
        description="`watching`: hosts are judging its health window; `rolled-back`: it failed, "
        "and the version before it serves again."
    )
    reason: str | None
    startedAt: datetime


class ModuleListItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    status: Status
    reason: str | None = Field(description="Why the module is failed or quarantined; null otherwise.")
    source: str = Field(description="The source spec as typed, e.g. `github:acme/hello#v1.0.0`.")
    sourceKind: Literal["path", "git", "npm"]
    resolved: str = Field(description="Exactly what is installed: path, `git+<url>#<commit>` or npm version.")
    compatible: bool = Field(description="Whether the manifest's `trafi` range admits this host.")
    compatibility: str = Field(description="`ok`, or why not.")
    loadMs: float | None = Field(
        default=None, description="Last load time (artifact, instantiate, init) a running host reported."
    )
    reportedBy: str | None = Field(
        default=None,
        description="The host process (`hostname:pid`) whose report `loadMs` and a failure come from.",
    )
    lastUpdate: LastUpdate | None = Field(
        default=None, description="The module's most recent update and its health window's verdict."
    )


class ModuleList(BaseModel):
    """`trafi module list --json`."""

    model_config = ConfigDict(extra="forbid")

    schemaVersion: Literal[1] = 1
    modules: list[ModuleListItem]
    warnings: list[str] = Field(description="Incompatible versions, failures and quarantines, in words.")


def list_modules(project: Project, states: ModuleStates | None = None) -> ModuleList:
    """`states`: a running host's state store (its database, already migrated); unset, the
    project's database is opened (and migrated) for this call, as a command does."""
    config = project.load_config()
    with ExitStack() as stack:
        if states is None:
            states = stack.enter_context(project_module_states(project))
        rows = states.load()
        reports = latest_reports(states.database)
        updates = UpdateRecords(states.database).latest()
    manifests: dict[str, Manifest | str] = {}
    for name in config.modules:
        try:
            manifests[name] = load_manifest(project.module_dir(name))
        except TrafiError as error:
            manifests[name] = str(error)
    # Shown for every module, whether it should run or not.
    compatibility = {
        name: manifest if isinstance(manifest, str) else compatibility_problem(manifest)
        for name, manifest in manifests.items()
    }
    decisions = decide(
        {name: entry.version for name, entry in config.modules.items()},
        {name: states.desired(name, entry, rows) for name, entry in config.modules.items()},
        manifests,
    ).modules

    items: list[ModuleListItem] = []
    warnings: list[str] = []
    for name, entry in sorted(config.modules.items()):
        status, reason = _listed(decisions[name])
        report = reports.get(name)
        if report is not None and report.version != entry.version:
            report = None  # about what was installed before
        if status == "enabled" and report is not None and report.status == "failed":
            status, reason = (
                "failed",
                f"{report.error} (host {report.host}, {report.reported_at:%Y-%m-%d %H:%M:%S})",
            )
        problem = compatibility[name]
        source: ModuleSource = entry.source
        items.append(
            ModuleListItem(
                name=name,
                version=entry.version,
                status=status,
                reason=reason,
                source=source.spec,
                sourceKind=source.kind,
                resolved=source.resolved,
                compatible=problem is None,
                compatibility="ok" if problem is None else problem,
                loadMs=report.load_ms if report else None,
                reportedBy=report.host if report else None,
                lastUpdate=_last_update(updates.get(name)),
            )
        )
        if problem:
            warnings.append(f"{name} {entry.version} is not compatible: {problem}")
        elif status == "failed":
            warnings.append(f"{name} cannot start: {reason}")
        last = updates.get(name)
        if last is not None and last.status in ("failed", "rolled-back"):
            warnings.append(
                f"{name}: the update to {last.to_version} failed and was "
                f"{'rolled back' if last.status == 'rolled-back' else 'not rolled back yet'}: {last.reason}"
            )
        if status == "quarantined":
            warnings.append(f"{name} is quarantined: {reason} (`trafi module enable {name}` lifts it)")
    return ModuleList(modules=items, warnings=warnings)


def _last_update(record: UpdateRecord | None) -> LastUpdate | None:
    if record is None:
        return None
    return LastUpdate(
        fromVersion=record.from_version,
        toVersion=record.to_version,
        status=record.status,
        reason=record.reason,
        startedAt=record.started_at,
    )


# The decision in the listing's words: a module that runs, or would, is `enabled`.
_LISTED: dict[str, Status] = {
    "run": "enabled",
    "disabled": "disabled",
    "quarantined": "quarantined",
    "failed": "failed",
}


def _listed(decision: Decision) -> tuple[Status, str | None]:
    return _LISTED[decision.status], decision.reason


def module_list_json_schema_text() -> str:
    schema = ModuleList.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://trafi.dev/schemas/module-list-v1.json"
    return json.dumps(schema, indent=2) + "\n"
