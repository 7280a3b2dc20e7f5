"""docs/dev-loop.md is run as written: its ```bash blocks in order, its python example reloaded."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.docs.test_getting_started import free_port
from tests.host.dev.dev_modules import auth, never, write_counter
from trafi_host.api import create_app
from trafi_host.devserver import DevServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "dev-loop.md"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_dev_loop_runs_as_written(tmp_path: Path) -> None:
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 2
    script = "set -euo pipefail\n" + "\n".join(blocks).replace("8000", str(free_port()))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("TRAFI_DATABASE_URL", None)
    # Its own session: whatever the script leaves running (a failed step before `kill $DEV`)
    # is stopped with it.
    process = subprocess.Popen(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=500)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        log = (tmp_path / "dev.log").read_text() if (tmp_path / "dev.log").exists() else ""
        print(log)  # shown when the test fails
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert result.returncode == 0, result.stdout + result.stderr + log
    assert '"message":"hello from greeter"' in result.stdout
    assert '"message":"hi from greeter"' in result.stdout
    assert re.search(r"reloaded greeter 0\.1\.0 in \d+ ms", log), log


def test_the_state_example_keeps_its_count_across_a_reload(tmp_path: Path) -> None:
    example = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert example is not None
    module = write_counter(tmp_path / "greeter", name="greeter")
    (module / "app.py").write_text(example.group(1))
    with DevServer.start(tmp_path / "project", [module], never) as dev:
        dev.watcher.stop()
        with TestClient(create_app(dev.project, dev.host)) as client:
            client.get("/api/modules/greeter/v1/visits", headers=auth(dev))
            assert client.get("/api/modules/greeter/v1/visits", headers=auth(dev)).json() == {"visits": 2}
            (module / "app.py").write_text(example.group(1) + "\n# saved again\n")
            assert dev.modules.load(module).kind == "reloaded"
            assert client.get("/api/modules/greeter/v1/visits", headers=auth(dev)).json() == {"visits": 3}
