"""`trafi dev` as a real process: its printed key, its HTTP answers, its /dev/events stream."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.docs.test_getting_started import free_port

REPO = Path(__file__).resolve().parents[2]


class DevProcess:
    def __init__(self, cwd: Path, *args: str, project: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "300"}
        env.pop("TRAFI_DATABASE_URL", None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "trafi_cli",
                "dev",
                *args,
                "--project",
                str(project),
                "--port",
                str(self.port),
            ],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.key = ""
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._started = threading.Event()
        threading.Thread(target=self._read_output, daemon=True).start()

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            found = re.search(r"API key: (trafi_\S+)", line)
            if found:
                self.key = found.group(1)
            if "Uvicorn running on" in line:
                self._started.set()
        self._started.set()

    def wait_started(self, timeout: float = 600) -> None:
        assert self._started.wait(timeout), "".join(self.lines)
        assert self.process.poll() is None and self.key, "".join(self.lines)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        return self.call("GET", path)

    def call(self, method: str, path: str, key: str | None = None) -> tuple[int, dict[str, Any]]:
        """`method path` with `key` (default: the printed demo key, which holds every permission)."""
        request = urllib.request.Request(
            self.base + path, method=method, headers={"Authorization": f"Bearer {key or self.key}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def follow_events(self) -> None:
        """Reads /dev/events into `events` (returns once subscribed)."""
        subscribed = threading.Event()

        def read() -> None:
            with urllib.request.urlopen(self.base + "/dev/events", timeout=600) as stream:
                for raw in stream:
                    line = raw.decode().rstrip("\n")
                    if line == ": connected":
                        subscribed.set()
                    elif line.startswith("data: "):
                        self.events.put(json.loads(line[len("data: ") :]))

        threading.Thread(target=read, daemon=True).start()
        assert subscribed.wait(60), "never subscribed to /dev/events"

    def next_event(self, timeout: float = 120) -> dict[str, Any]:
        return self.events.get(timeout=timeout)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        time.sleep(0)  # the reader thread drains the rest of the output
