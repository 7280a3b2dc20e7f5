"""`just bench --quick` keeps the bench scripts working; it asserts no timing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
# The quick bench builds and starts real hosts: 7 minutes measured in CI on a busy 2-core
# machine (2026-11-30), so each limit leaves it more than twice that.
@pytest.mark.timeout(1800)
def test_quick_bench_runs_every_scenario(
    hello_dir: Path, testkit_dir: Path, fetcher_dir: Path, worldkit_dir: Path
) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("TRAFI_DATABASE_URL", None)
    env.pop("TRAFI_ARTIFACT_DIR", None)
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    for scenario in [
        "endpoint vs native",
        "start-up",
        "density",
        "wasm boundary",
        "contention",
        "security",
        "lifecycle",
        "metrics",
        "module-db",
        "cli start",
        "rate limits",
        "route permissions",
        "hot reload",
        "workers",
    ]:
        assert f"| {scenario} |" in table, scenario
    assert "server CPU per request, module vs native" in table
    assert "round by round" in table  # the workers ratio, round by round
