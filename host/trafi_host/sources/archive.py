"""Unpacking a module archive (`.tgz`) without trusting it.

Every member is checked before anything is written: absolute paths, `..`,
links (all of them: a module has no need for links), devices, FIFOs, the file
count, the total unpacked size, and its ratio to the packed size (a
compression bomb). Tar headers state exact sizes, so this happens before a
byte is unpacked; writing counts the bytes again as a second guard.
"""

from __future__ import annotations

import shutil
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import ExitCode, TrafiError


class UnsafeArchive(TrafiError):
    """The archive is refused; nothing was written."""

    exit_code = ExitCode.UNSAFE_ARCHIVE


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_bytes: int = 200 << 20
    max_files: int = 10_000
    max_ratio: int = 200  # unpacked bytes per packed byte


def _member_path(member: tarfile.TarInfo, archive: Path) -> PurePosixPath:
    name = member.name.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(f"{archive.name}: {member.name!r} is an absolute path")
    if ".." in path.parts:
        raise UnsafeArchive(f"{archive.name}: {member.name!r} climbs out of the archive with '..'")
    return path


def check_members(archive: Path, limits: ArchiveLimits) -> list[tarfile.TarInfo]:
    """Every member, checked header by header: a limit is refused at the header that crosses it,
    so a 300,000-entry archive or a bomb costs one header past the limit, not a full read."""
    packed = max(archive.stat().st_size, 1)
    ceiling = min(limits.max_total_bytes, packed * limits.max_ratio)
    members: list[tarfile.TarInfo] = []
    total = 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            while (member := tar.next()) is not None:
                if len(members) == limits.max_files:
                    raise UnsafeArchive(f"{archive.name}: more than {limits.max_files} entries")
                _member_path(member, archive)
                if member.issym() or member.islnk():
                    raise UnsafeArchive(f"{archive.name}: {member.name!r} is a link; modules ship files only")
                if not (member.isfile() or member.isdir()):
                    raise UnsafeArchive(
                        f"{archive.name}: {member.name!r} is a device, FIFO or other special file"
                    )
                total += member.size
                if total > ceiling:
                    raise UnsafeArchive(
                        f"{archive.name}: unpacks to more than {total:,} bytes from {packed:,} "
                        f"(limits: {limits.max_total_bytes:,} bytes, {limits.max_ratio}x): an archive bomb?"
                    )
                members.append(member)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise UnsafeArchive(f"{archive.name}: not a readable tar archive ({error})") from None
    return members


def extract_safely(archive: Path, destination: Path, limits: ArchiveLimits | None = None) -> Path:
    """Unpack into `destination` (created); returns the module folder inside it.

    npm tarballs put everything under `package/`: a single top-level folder is
    taken as the module folder.
    """
    limits = limits or ArchiveLimits()
    members = check_members(archive, limits)
    destination.mkdir(parents=True, exist_ok=False)
    written = 0
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in members:
                target = destination.joinpath(*_member_path(member, archive).parts)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is None:
                    raise UnsafeArchive(f"{archive.name}: cannot read {member.name!r}")
                with source, target.open("wb") as out:
                    while block := source.read(1 << 16):
                        written += len(block)
                        if written > limits.max_total_bytes:
                            raise UnsafeArchive(f"{archive.name}: more than {limits.max_total_bytes:,} bytes")
                        out.write(block)
                target.chmod(0o644)
    except BaseException:
        shutil.rmtree(destination, ignore_errors=True)
        raise
    entries = [p for p in destination.iterdir()]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return destination
