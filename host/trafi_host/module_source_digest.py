"""A module's source digest: what the lock records beside the component digest.

componentize-py does not build byte for byte the same component twice from the
same source: the interpreter snapshot it takes carries build-time randomness
(the hash seed, allocator state) and clock readings, which cannot be fixed from
outside it (bytecodealliance/componentize-py#247, measured here: two builds of
`modules/hello`, two digests and two sizes). So the component digest alone
cannot tell "rebuilt from the same source" from "a different module"; the
source digest can, and `trafi module install` uses it to say which one it is.

The digest covers every file of the module folder by its path relative to the
folder (so it is the same on every machine), except what a build writes (the
component, its stamp) and caches.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .manifest.model import Manifest
from .project.config import ModuleEntry
from .project.lock import LockedModule

_SKIPPED_PARTS = {"__pycache__", ".git", ".venv", "node_modules", ".trafi"}


def module_source_digest(folder: Path, manifest: Manifest) -> str:
    """sha256 over the module's source files (sorted relative paths and contents)."""
    folder = folder.resolve()
    built = (folder / manifest.entry.backend).resolve()
    skipped = {built, built.with_name(built.name + ".source-sha256")}
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if path.resolve() in skipped or _SKIPPED_PARTS & set(relative.parts) or path.suffix == ".pyc":
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def locked_digest_mismatch(name: str, locked: LockedModule, installed: ModuleEntry) -> str:
    """Why `trafi module install` refuses a component the lock does not record, and what to do."""
    found = (
        f"{name} {locked.version} from {locked.source.resolved}: the component's sha256 is "
        f"{installed.digest}, the lock records {locked.digest}"
    )
    if locked.source_digest is None or installed.source_digest is None:
        return (
            f"{found}. The lock has no source digest to compare: if this component was built again "
            f"from the same source, that explains it (builds are not byte-reproducible); re-lock it "
            f"with `trafi module add {locked.source.spec}` after reviewing the source"
        )
    if locked.source_digest == installed.source_digest:
        return (
            f"{found}, but the source is the one locked (source sha256 {locked.source_digest[:12]}): "
            f"the component was built again, and componentize-py builds are not byte-for-byte "
            f"reproducible. Install the component that was locked (commit or publish "
            f"{name}'s built component with its source instead of building it on each machine), or "
            f"accept this build with `trafi module add {locked.source.spec}`, which re-locks it"
        )
    return (
        f"{found}, and its source differs from the one locked (source sha256 "
        f"{installed.source_digest[:12]}, locked {locked.source_digest[:12]}): this is not the module "
        f"that was locked. Check out the locked source, or review this one and re-lock it with "
        f"`trafi module add {locked.source.spec}`"
    )
