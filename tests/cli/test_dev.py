"""README command 1: `trafi dev` builds, installs, prints a key, and serves hello."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.docs.test_getting_started import free_port

REPO = Path(__file__).resolve().parents[2]


def get(url: str, key: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.mark.slow
def test_dev_serves_hello_with_the_printed_key(tmp_path: Path, hello_dir: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "300"}
    env.pop("TRAFI_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "trafi_cli", "dev", "--project", str(tmp_path / "dev"), "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        key = None
        output = []
        deadline = time.monotonic() + 240
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            output.append(line)
            found = re.search(r"API key: (trafi_\S+)", line)
            if found:
                key = found.group(1)
            if "Uvicorn running on" in line or (line == "" and process.poll() is not None):
                break
        assert key, "".join(output)
        base = f"http://127.0.0.1:{port}"
        assert get(f"{base}/health")[1]["status"] == "ok"
        status, first = get(f"{base}/api/modules/hello/v1/hits", key)
        assert status == 200 and first["tenant"] == "demo"
        _, second = get(f"{base}/api/modules/hello/v1/hits", key)
        assert second["hits"] == int(str(first["hits"])) + 1
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
