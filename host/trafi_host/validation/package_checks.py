"""The module folder itself: links that leave it, and files that are not files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .findings import Finding


def check_package(module_dir: Path) -> list[Finding]:
    root = module_dir.resolve()
    findings: list[Finding] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in sorted([*dirs, *files]):
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                target = path.resolve()
                if not target.is_relative_to(root):
                    findings.append(
                        Finding.of(
                            "TRF-P001",
                            f"{relative} links to {os.readlink(path)}, outside the module",
                            file=relative,
                            line=1,
                        )
                    )
            elif not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                findings.append(
                    Finding.of(
                        "TRF-P002", f"{relative} is not a regular file or folder", file=relative, line=1
                    )
                )
    return findings
