"""`trafi.lock.json`: exactly which modules are installed, from where, so another machine gets the same.

It is derived from `trafi.config.json` on every save (never edited by hand),
and read by `trafi module install`, which fetches each module from its
resolved source (path, commit, npm version and integrity) and refuses one
whose component digest differs from the lock's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .config import ConfigModel, ModuleSource, ProjectConfig

LOCK_FILE = "trafi.lock.json"


class LockedModule(ConfigModel):
    version: str
    source: ModuleSource
    digest: str = Field(description="sha256 of the component: checked again on `trafi module install`.")
    source_digest: str | None = Field(
        default=None,
        description="sha256 of the module's source files: a component built again from the same "
        "source has another digest (componentize-py builds are not byte-reproducible).",
    )


class LockFile(ConfigModel):
    lockfile_version: Literal[1] = 1
    modules: dict[str, LockedModule] = Field(default_factory=dict)


def lock_from_config(config: ProjectConfig) -> LockFile:
    return LockFile(
        modules={
            name: LockedModule(
                version=entry.version,
                source=entry.source,
                digest=entry.digest,
                source_digest=entry.source_digest,
            )
            for name, entry in sorted(config.modules.items())
        }
    )
