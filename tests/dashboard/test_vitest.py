"""The dashboard's own unit tests (Vitest: the UI tree renderer), run as part of the one test command."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


@pytest.mark.timeout(900)
def test_vitest_passes(dashboard_built: Path) -> None:
    # `dashboard_built` ran `npm ci` when the lockfile changed: node_modules holds vitest.
    done = subprocess.run(
        ["npm", "test", "--", "--reporter=dot"],
        cwd=DASHBOARD,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert " passed" in output and " failed" not in output, output
