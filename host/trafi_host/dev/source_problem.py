"""Where a module's new code failed: file, line and a source excerpt, from the guest's error text.

The dev guest ends its first line with `at <file>:<line>` (`trafi_sdk.dev_guest.describe`);
the excerpt is read here, from the staged copy the guest imported.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

ProblemKind = Literal["syntax", "import", "runtime", "manifest", "permission", "requirements", "migration"]

_START_PREFIX = re.compile(r"^module \S+: init failed for tenant \S+: ")
_HEAD = re.compile(r"^(?P<type>[A-Za-z_][\w.]*): (?P<message>.*?)(?: at (?P<file>\S+):(?P<line>\d+))?$")
_NOT_IN_SNAPSHOT = re.compile(r"No module named '([\w.]+)'")


class SourceProblem(BaseModel):
    """Shown in the terminal, in the module's HTTP error body and on /dev/events."""

    module: str
    kind: ProblemKind
    message: str
    file: str | None = None
    line: int | None = None
    excerpt: str | None = None  # a few lines around `line`, the failing one marked `>`
    detail: str | None = None  # the traceback, or the full error text

    def render(self) -> str:
        where = f" ({self.file}:{self.line})" if self.file else ""
        text = f"module {self.module}: {self.kind} error{where}: {self.message}"
        return text + (f"\n{self.excerpt}" if self.excerpt else "")


def excerpt(path: Path, line: int, around: int = 2) -> str | None:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return None
    if not 1 <= line <= len(lines) + 1:
        return None
    first, last = max(1, line - around), min(len(lines), line + around)
    width = len(str(last))
    return "\n".join(
        f"{'>' if n == line else ' '} {n:>{width}} | {lines[n - 1]}" for n in range(first, last + 1)
    )


def problem_from_guest(module: str, error: str, staged_root: Path, author_root: Path) -> SourceProblem:
    """The problem the dev guest reported when the new code was imported (or its init ran).

    The excerpt comes from `staged_root` (what the guest imported); the file named is the
    author's, under `author_root`, so that an editor can open it.
    """
    text = _START_PREFIX.sub("", error.strip())
    head, _, rest = text.partition("\n")
    match = _HEAD.match(head)
    if match is None:
        return SourceProblem(module=module, kind="runtime", message=head, detail=text)
    error_type = match.group("type").rsplit(".", 1)[-1]
    message = f"{error_type}: {match.group('message')}"
    kind: ProblemKind = "runtime"
    if error_type in ("SyntaxError", "IndentationError", "TabError"):
        kind = "syntax"
    elif error_type in ("ImportError", "ModuleNotFoundError"):
        kind = "import"
        missing = _NOT_IN_SNAPSHOT.search(message)
        if missing:
            message += (
                f" (the dev runtime has the SDK and the standard library of "
                f"trafi_host.dev.runtime_component.STDLIB; a third-party package such as "
                f"{missing.group(1).split('.')[0]!r} goes in the module's requirements.txt)"
            )
    file, line = match.group("file"), match.group("line")
    shown = None
    if file and line and ":" not in file:  # `sdk:` / `vendor:` files are not the author's
        shown = excerpt(staged_root / file, int(line))
        file = str(author_root / file)
    return SourceProblem(
        module=module,
        kind=kind,
        message=message,
        file=file,
        line=int(line) if line else None,
        excerpt=shown,
        detail=rest.strip() or None,
    )
