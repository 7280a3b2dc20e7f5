"""The `--json` documents of `trafi cache`, `trafi module migrate|migrations` and `trafi events`.

Imported by those commands when they run (pydantic is not free to import: `trafi --help`
and `trafi version` must not pay for it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class PrunedArtifact(BaseModel):
    file: str
    component: str  # sha256 of the component it was compiled from
    bytes: int


class CachePruneOutput(BaseModel):
    """`trafi cache prune --json`."""

    schemaVersion: Literal[1] = 1
    cache: str
    shared: bool  # TRAFI_ARTIFACT_DIR: other projects' artifacts are in it too
    dryRun: bool
    pruned: list[PrunedArtifact]
    freedBytes: int


class MigrationRow(BaseModel):
    """One migration of `trafi module migrations --json`."""

    id: str
    applied: bool
    applied_at: datetime | None = Field(default=None, alias="appliedAt")
    applied_version: str | None = Field(default=None, alias="appliedVersion")
    shipped: bool = Field(description="The installed version's files have it.")
    changed: bool = Field(description="Applied with another checksum than the files have (refused).")


class MigrateResult(BaseModel):
    """`trafi module migrate --json`."""

    module: str
    dry_run: bool = Field(alias="dryRun")
    steps: list[str] = Field(description="`up <id>` / `down <id>`, in the order run (or planned).")


class DeliveryItem(BaseModel):
    id: int
    eventId: str
    eventType: str
    module: str
    tenant: str
    attempts: int
    lastError: str | None
    updatedAt: datetime
