"""Scenario: how long `trafi` takes to start, in CPU seconds (what a busy machine's wall clock hides).

`trafi version` and `trafi --help` against the floor every typer CLI pays: a
two-command typer app (typer 0.29 builds pydantic adapters for the command's
parameters, ~0.3 s of CPU on these machines).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from .fixtures import REPO
from .report import Row

# Two commands, so that `version` is a subcommand as in `trafi`.
FLOOR = (
    "import typer\napp = typer.Typer()\n@app.command()\ndef version() -> None:\n    print('0')\n"
    "@app.command()\ndef other(n: int = 1) -> None:\n    pass\napp()\n"
)


def cpu_seconds(command: list[str], runs: int) -> float:
    """Median user+system CPU seconds of `command` over `runs` runs."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("host", "cli", "sdk-py"))}
    samples = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, env=env, capture_output=True, check=True, cwd=REPO)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return statistics.median(samples)


def run(work: Path, quick: bool) -> list[Row]:
    runs = 3 if quick else 15
    floor_script = work / "typer_floor.py"
    floor_script.write_text(FLOOR)
    floor = cpu_seconds([sys.executable, str(floor_script), "version"], runs)
    version = cpu_seconds([sys.executable, "-m", "trafi_cli", "version"], runs)
    help_ = cpu_seconds([sys.executable, "-m", "trafi_cli", "--help"], runs)
    note = "CPU s (user+sys), median; the host is imported by each command's body only"
    return [
        Row("cli start", "trafi version", version, "s", floor, "2-command typer app", "< 0.3 s", note),
        Row("cli start", "trafi --help", help_, "s", floor, "2-command typer app", "", note),
    ]
