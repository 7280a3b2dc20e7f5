"""What `trafi module build` checks before componentize-py: every `.py` of the module compiles.

componentize-py reports a syntax error only after it has started the guest
interpreter (seconds on an idle machine, minutes on a busy one); `compile()`
of each file finds it in milliseconds, with the file and line.
"""

from __future__ import annotations

from pathlib import Path

from .errors import BuildError

# Folders a build never reads: caches, the build output, tools' environments.
_SKIPPED = {"__pycache__", ".git", ".venv", "venv", "node_modules", "dist", ".trafi"}


def module_sources(source_dir: Path) -> list[Path]:
    """The module's own Python files, in a stable order."""
    return sorted(
        path
        for path in source_dir.rglob("*.py")
        if not _SKIPPED & set(path.relative_to(source_dir).parts[:-1])
    )


def check_syntax(module: str, source_dir: Path) -> int:
    """Compiles every `.py` under `source_dir`; BuildError naming each file:line that does not.

    Returns the number of files checked."""
    problems: list[str] = []
    files = module_sources(source_dir)
    for path in files:
        try:
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        except SyntaxError as error:  # IndentationError and TabError included
            where = f"{path}:{error.lineno}" + (f":{error.offset}" if error.offset else "")
            line = (error.text or "").rstrip()
            problems.append(
                f"{type(error).__name__}: {error.msg} at {where}" + (f"\n    {line}" if line else "")
            )
        except ValueError as error:  # e.g. a null byte in the source
            problems.append(f"{path}: {error}")
    if problems:
        raise BuildError(f"module {module}: build failed before componentize-py:\n" + "\n".join(problems))
    return len(files)
