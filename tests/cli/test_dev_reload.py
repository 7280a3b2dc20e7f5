"""`trafi dev` reloads a saved module: new code answers, a broken save leaves the old code serving
and announces the error on /dev/events, and a fix serves again (issue 17 items 1-5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.dev_process import DevProcess
from tests.host.dev.dev_modules import counter_source, write_counter
from tests.polling import wait_for


@pytest.mark.slow
def test_an_edit_a_syntax_error_and_a_fix_under_trafi_dev(tmp_path: Path) -> None:
    module = write_counter(tmp_path / "counter", answer=1, keep_state=True)
    dev = DevProcess(tmp_path, str(module), project=tmp_path / "dev")
    try:
        dev.wait_started()
        assert "hello/v1/hits" not in dev.output  # no hint for a module not served
        dev.follow_events()
        assert dev.get("/api/modules/counter/v1/answer") == (200, {"answer": 1, "calls": 1})

        (module / "app.py").write_text(counter_source(2, keep_state=True))
        wait_for(lambda: dev.get("/api/modules/counter/v1/answer")[1]["answer"] == 2, message="the new code")
        reloaded = dev.next_event()
        assert reloaded["kind"] == "reloaded" and reloaded["module"] == "counter"

        broken = counter_source(3, keep_state=True).replace("calls = {", "calls = {{")
        (module / "app.py").write_text(broken)
        error = dev.next_event()
        assert error["kind"] == "error" and error["serving"] == "0.1.0"
        problem = error["problem"]
        assert problem["kind"] == "syntax" and problem["file"] == str(module / "app.py")
        assert problem["line"] == broken.splitlines().index('calls = {{"count": 0}') + 1
        assert "> " in problem["excerpt"]
        # The previous version serves on, its in-memory count included.
        status, body = dev.get("/api/modules/counter/v1/answer")
        assert status == 200 and body["answer"] == 2
        wait_for(
            lambda: f"{module / 'app.py'}:{problem['line']}" in dev.output, message="the terminal's error"
        )

        (module / "app.py").write_text(counter_source(4, keep_state=True))
        assert dev.next_event()["kind"] == "reloaded"
        status, body = dev.get("/api/modules/counter/v1/answer")
        assert body["answer"] == 4 and body["calls"] > 2  # state kept through two reloads
    finally:
        dev.stop()


def test_trafi_dev_outside_the_repository_says_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trafi_cli", "dev", "--project", str(tmp_path / "dev")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "no module to develop" in result.stderr and "trafi dev MODULE_DIR" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_folder_that_is_no_module_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trafi_cli",
            "dev",
            str(tmp_path / "empty"),
            "--project",
            str(tmp_path / "dev"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "is not a module folder" in result.stderr
    assert "Traceback" not in result.stderr
