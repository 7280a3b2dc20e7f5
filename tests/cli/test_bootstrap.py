"""`bootstrap CMD` runs CMD in the caller's folder (the getting-started advice relies on it)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bootstrap_runs_the_command_where_it_was_called(tmp_path: Path) -> None:
    # A checkout whose venv is ready (the stamp matches): bootstrap installs nothing.
    checkout = tmp_path / "trafi"
    (checkout / "sdk-py").mkdir(parents=True)
    shutil.copy(REPO / "bootstrap", checkout / "bootstrap")
    (checkout / "pyproject.toml").write_text("[project]\n")
    (checkout / "sdk-py" / "pyproject.toml").write_text("[project]\n")
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").symlink_to(sys.executable)
    stamp = hashlib.sha256(b"[project]\n[project]\n").hexdigest()
    (checkout / ".venv" / ".installed").write_text(stamp + "\n")
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        [str(checkout / "bootstrap"), "sh", "-c", 'pwd; echo "$VIRTUAL_ENV"'],
        cwd=work,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": os.environ["PATH"]},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    where, venv = done.stdout.splitlines()
    assert Path(where).resolve() == work.resolve()
    assert Path(venv).resolve() == (checkout / ".venv").resolve()
