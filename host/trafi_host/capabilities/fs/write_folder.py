"""What a guest left in its write folder, checked after each call: links removed, usage measured.

WASI writes go straight from wasmtime to the disk, so the host cannot refuse a
`symlink` or `link` call, nor a write past a quota, as it happens (wasmtime-py
offers no per-call filesystem hook; shadowing the WASI filesystem interface
replaces all of it). It checks right after each call instead: a symbolic link,
or a file with a second name (a hard link), is removed — the sandbox would not
follow it, but backup tools and operators would — and the folder's size is
measured against the grant's quota.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

# Entries one sweep looks at: a folder with more is over its quota whatever its size.
MAX_ENTRIES = 20_000


@dataclass
class Sweep:
    removed_links: list[str] = field(default_factory=list)
    bytes_used: int = 0
    entries: int = 0

    @property
    def too_many_entries(self) -> bool:
        return self.entries > MAX_ENTRIES


def sweep(folder: Path) -> Sweep:
    """Removes links the guest made under `folder`; measures what stays (never follows a link)."""
    result = Sweep()
    if not folder.is_dir():
        return result
    stack = [folder]
    while stack and not result.too_many_entries:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            result.entries += 1
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            relative = Path(entry.path).relative_to(folder).as_posix()
            if stat.S_ISLNK(info.st_mode) or (stat.S_ISREG(info.st_mode) and info.st_nlink > 1):
                try:
                    os.unlink(entry.path)
                except OSError:
                    continue
                result.removed_links.append(relative)
            elif stat.S_ISDIR(info.st_mode):
                stack.append(Path(entry.path))
            elif stat.S_ISREG(info.st_mode):
                result.bytes_used += max(info.st_size, info.st_blocks * 512)
            else:  # a FIFO, socket or device: nothing a module may keep on the host's disk
                try:
                    os.unlink(entry.path)
                except OSError:
                    continue
                result.removed_links.append(relative)
    return result


__all__ = ["MAX_ENTRIES", "Sweep", "sweep"]
