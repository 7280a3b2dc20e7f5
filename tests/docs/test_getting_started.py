"""docs/getting-started.md is run as written: every ```bash block, in order."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "getting-started.md"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_getting_started_runs_as_written(tmp_path: Path, hello_dir: Path) -> None:
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 4
    port = str(free_port())
    script = "set -euo pipefail\n" + "\n".join(blocks).replace("8000", port)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("TRAFI_DATABASE_URL", None)
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '{"message":"hello from greeter","count":1}' in result.stdout
    assert '{"message":"hello from greeter","count":2}' in result.stdout
    # The python example in the doc is the template the scaffold wrote.
    python_block = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert python_block is not None
    assert python_block.group(1).strip() in (tmp_path / "greeter" / "app.py").read_text()
