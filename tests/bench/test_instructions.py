"""The callgrind windows bench/instructions.py reads: named dumps, counted work, idle correction."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.instructions import Window, _dumps, _marks, _per_request, _valgrind

pytestmark = pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")

WORK = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("_callgrind_marks", sys.argv[1])
marks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(marks)
assert marks.running()
marks.start()
marks.stop("empty")
marks.start()
total = 0
for i in range(20000):
    total += i * i
marks.stop("loop")
"""


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_window_counts_the_work_between_its_marks(tmp_path: Path) -> None:
    marks = _marks(tmp_path)
    out = tmp_path / "callgrind"
    subprocess.run([*_valgrind(out), sys.executable, "-c", WORK, str(marks)], check=True, timeout=540)
    counts = _dumps(out)
    assert set(counts) >= {"empty", "loop"}
    # 20,000 iterations of a Python loop: far more than the empty window, a few hundred each.
    assert counts["loop"] - counts["empty"] > 20_000 * 50
    # An idle rate of `empty` instructions a second, a loop window of two seconds: corrected by two.
    windows = {
        "idle": Window(counts["empty"], 1.0, 0),
        "idle-after": Window(counts["empty"] * 3, 1.0, 0),
        "loop": Window(counts["loop"], 2.0, 20_000),
    }
    assert _per_request(windows) == {"loop": (counts["loop"] - 2 * counts["empty"]) / 20_000}
