"""Previous versions of each module, kept on disk for `trafi module rollback`.

An update moves the folder it replaces here instead of deleting it:
`.trafi/versions/<name>/<version>-<digest12>/` holds the module folder as it
was installed (`module/`) and `kept.json`, the config entry it ran with
(version, source, digest, config, grants). A rollback installs that folder
again exactly (the digest is checked), with that entry. The newest
`updates.keepVersions` of each module are kept; `trafi module prune` trims
by hand; removing a module removes its kept versions.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field, ValidationError

from ..errors import ProjectError
from .atomic import write_text_atomic
from .config import ConfigModel, ModuleEntry
from .layout import Project

KEPT_FILE = "kept.json"


class KeptRecord(ConfigModel):
    name: str
    kept_at: datetime
    entry: ModuleEntry = Field(description="The config entry this version ran with.")


@dataclass(frozen=True)
class KeptVersion:
    name: str
    version: str
    digest: str
    kept_at: datetime
    entry: ModuleEntry
    path: Path  # `.../<version>-<digest12>`; the module folder is `path / "module"`

    @property
    def folder(self) -> Path:
        return self.path / "module"


def versions_dir(project: Project, name: str | None = None) -> Path:
    root = project.state_dir / "versions"
    return root if name is None else root / name


def kept_path(project: Project, name: str, entry: ModuleEntry) -> Path:
    return versions_dir(project, name) / f"{entry.version}-{entry.digest[:12]}"


def keep_version(project: Project, name: str, folder: Path, entry: ModuleEntry) -> Path:
    """Move `folder` (a module folder just replaced) into the version store; a second run, after
    the move happened, does nothing. Returns where it is kept."""
    target = kept_path(project, name, entry)
    if not folder.exists():
        return target  # kept already (or never there: nothing to keep)
    if target.exists():
        shutil.rmtree(target)  # the same version and digest, kept before: the newer copy wins
    staging = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    record = KeptRecord(name=name, kept_at=datetime.now(UTC), entry=entry)
    write_text_atomic(staging / KEPT_FILE, record.model_dump_json(by_alias=True, indent=2) + "\n")
    os.replace(folder, staging / "module")
    os.replace(staging, target)
    return target


def kept_versions(project: Project, name: str) -> list[KeptVersion]:
    """The kept versions of `name`, newest first; unreadable records are skipped."""
    root = versions_dir(project, name)
    if not root.is_dir():
        return []
    found: list[KeptVersion] = []
    for path in root.iterdir():
        if path.name.startswith(".") or not (path / "module").is_dir():
            continue
        try:
            record = KeptRecord.model_validate_json((path / KEPT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            continue
        entry = record.entry
        found.append(KeptVersion(name, entry.version, entry.digest, record.kept_at, entry, path))
    return sorted(found, key=lambda kept: kept.kept_at, reverse=True)


def find_kept(
    project: Project,
    name: str,
    version: str | None,
    *,
    installed: ModuleEntry | None = None,
    digest: str | None = None,
) -> KeptVersion:
    """The kept version to roll back to: `version` (or exactly `digest`), else the newest that is
    not the `installed` one (same version and component)."""
    kept = kept_versions(project, name)
    candidates = [
        k
        for k in kept
        if (version is None or k.version == version)
        and (digest is None or k.digest == digest)
        and (installed is None or (k.version, k.digest) != (installed.version, installed.digest))
    ]
    if candidates:
        return candidates[0]
    listing = ", ".join(k.version for k in kept) or "none"
    wanted = f"version {version}" if version else "a previous version"
    raise ProjectError(f"module {name}: {wanted} is not kept on disk (kept: {listing})")


def prune_versions(project: Project, name: str, keep: int) -> list[KeptVersion]:
    """Delete all but the newest `keep` kept versions of `name`; returns what went."""
    gone = kept_versions(project, name)[keep:]
    for kept in gone:
        shutil.rmtree(kept.path, ignore_errors=True)
    return gone


def discard_kept(project: Project, name: str, entry: ModuleEntry) -> None:
    """Forget the kept copy of `entry`'s version and component, if there is one."""
    shutil.rmtree(kept_path(project, name, entry), ignore_errors=True)


def remove_versions(project: Project, name: str) -> None:
    shutil.rmtree(versions_dir(project, name), ignore_errors=True)


def kept_digests(project: Project) -> set[str]:
    """Digests of every kept version: their compiled artifacts stay in the cache."""
    root = versions_dir(project)
    if not root.is_dir():
        return set()
    return {
        kept.digest
        for folder in root.iterdir()
        if folder.is_dir()
        for kept in kept_versions(project, folder.name)
    }
