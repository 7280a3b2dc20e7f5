"""Runs a docs example written as a pytest file, with only the SDK importable (as an author has it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_example(test_file: Path) -> str:
    """pytest's output for `test_file`, which must pass."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=test_file.parent,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "sdk-py")},
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
