"""What interrupted commands leave behind, and sweeping it.

Only swept by a command holding the project lock, after recovery has finished
any interrupted operation, so nothing listed here is in use by a command:

- `.trafi/staging/*`: scratch folders of installs (fetched sources, staged copies);
- `.trafi/modules/.<name>.old-*` and `.<name>.removed-*`: module folders moved aside;
- `.trafi.config.json.*.tmp`, `.trafi.lock.json.*.tmp`, `.trafi/.journal.json.*.tmp`: half-written files;
- `<artifact cache>/.tmp-<pid>-*`: half-written compiled artifacts whose writer is no longer
  running (hosts compile without the lock, so a live writer's file is left alone; one in the
  older `.tmp-*` form is removed once it is an hour old).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from .layout import Project

_ASIDE = re.compile(r"^\..+\.(old|removed)-[^/]+$")
_HALF_WRITTEN = re.compile(r"^\.(trafi\.config\.json|trafi\.lock\.json|journal\.json)\..+\.tmp$")
_ARTIFACT_TMP = re.compile(r"^\.tmp-(?:(\d+)-)?")
_UNOWNED_AGE_SECONDS = 3600


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _artifact_tmp_is_debris(path: Path) -> bool:
    match = _ARTIFACT_TMP.match(path.name)
    if match is None:
        return False
    if match.group(1) is not None:
        return not _alive(int(match.group(1)))
    try:
        return time.time() - path.stat().st_mtime > _UNOWNED_AGE_SECONDS
    except FileNotFoundError:
        return False


def find_debris(project: Project, in_use: set[Path] | None = None) -> list[Path]:
    """Every leftover of an interrupted command, except the paths in `in_use` (a pending journal's)."""
    keep = in_use or set()
    found: list[Path] = []
    if project.staging_dir.is_dir():
        found += sorted(project.staging_dir.iterdir())
    if project.modules_dir.is_dir():
        found += sorted(p for p in project.modules_dir.iterdir() if _ASIDE.match(p.name))
    for folder in (project.root, project.state_dir):
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if _HALF_WRITTEN.match(p.name))
    if project.artifacts_dir.is_dir():
        found += sorted(p for p in project.artifacts_dir.iterdir() if _artifact_tmp_is_debris(p))
    return [path for path in found if path not in keep]


def sweep_debris(project: Project, in_use: set[Path] | None = None) -> list[Path]:
    """Delete what `find_debris` finds; returns what went. The caller holds the project lock."""
    swept = find_debris(project, in_use)
    for path in swept:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return swept
