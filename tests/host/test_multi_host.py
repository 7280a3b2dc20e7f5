"""Several host processes on one PostgreSQL database and Redis: all apply enable/disable within a second.

Two project folders stand for two machines (same installed modules, the
deployment copied); the CLI changes state through one of them. The other's
config file never changes, so it can only learn of the change from the
database, announced over Redis.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import api_keys, install_modules, postgres_database
from tests.docs.test_getting_started import free_port
from tests.polling import seconds_until, wait_for
from trafi_cli.main import app
from trafi_host.project import Project

REDIS_URL = os.environ.get("TRAFI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
APPLY_WITHIN_SECONDS = 1.0
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def status_of(url: str, key: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


class HostProcess:
    """`trafi serve` in its own process; `workers`: its `--workers` (1: one process, as these tests
    are about separate hosts; tests/cli/test_serve_workers.py runs several)."""

    def __init__(self, project: Path, env: dict[str, str], log: Path, workers: int = 1) -> None:
        self.project, self.env, self.log, self.workers = project, env, log, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "trafi_cli",
                    "serve",
                    "-C",
                    str(self.project),
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._healthy, timeout=120, message=f"the host on port {self.port} to answer /health")

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"host exited:\n{self.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{self.base}/health", timeout=1):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture
def redis_available() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not running at {REDIS_URL} ({error}); .ci/run starts it")


def test_two_hosts_apply_enable_and_disable_within_a_second(
    tmp_path: Path,
    hello_dir: Path,
    postgres_url: str,
    redis_available: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRAFI_DATABASE_URL", postgres_url)
    monkeypatch.setenv("TRAFI_REDIS_URL", REDIS_URL)
    machine_a = Project.init(tmp_path / "machine-a")
    install_modules(machine_a, hello_dir)
    shutil.copytree(machine_a.root, tmp_path / "machine-b")  # the same deployment on a second machine
    config_b = tmp_path / "machine-b" / "trafi.config.json"
    deployed_b = config_b.read_bytes()
    key = api_keys(postgres_url, "acme")["acme"]

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    hosts = [
        HostProcess(machine_a.root, env, tmp_path / "host-a.log"),
        HostProcess(tmp_path / "machine-b", env, tmp_path / "host-b.log"),
    ]
    runner = CliRunner()
    try:
        for host in hosts:
            host.start()
        urls = [f"{host.base}/api/modules/hello/v1/hits" for host in hosts]
        assert [status_of(url, key) for url in urls] == [200, 200]

        result = runner.invoke(app, ["module", "disable", "hello", "-C", str(machine_a.root)])
        assert result.exit_code == 0, result.output
        for url in urls:
            applied = seconds_until(
                lambda url=url: status_of(url, key) == 404, message=f"{url} to answer 404"
            )
            assert applied < APPLY_WITHIN_SECONDS

        result = runner.invoke(app, ["module", "enable", "hello", "-C", str(machine_a.root)])
        assert result.exit_code == 0, result.output
        for url in urls:
            applied = seconds_until(
                lambda url=url: status_of(url, key) == 200, message=f"{url} to answer 200"
            )
            assert applied < APPLY_WITHIN_SECONDS

        # Machine B learnt both changes from the database, through the announcement
        # (its own poll runs every 2 s with Redis configured).
        assert config_b.read_bytes() == deployed_b
        wait_for(lambda: "trigger=redis" in hosts[1].log.read_text(), message="host B to log trigger=redis")

        # The state outlives the processes: disabled while B is down, B starts without it.
        hosts[1].stop()
        result = runner.invoke(app, ["module", "disable", "hello", "-C", str(machine_a.root)])
        assert result.exit_code == 0, result.output
        hosts[1].start()
        assert status_of(urls[1], key) == 404
    finally:
        for host in hosts:
            host.stop()


def test_without_redis_the_state_table_poll_applies_the_change(
    tmp_path: Path, hello_dir: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAFI_DATABASE_URL", postgres_url)
    monkeypatch.delenv("TRAFI_REDIS_URL", raising=False)
    machine_a = Project.init(tmp_path / "machine-a")
    install_modules(machine_a, hello_dir)
    shutil.copytree(machine_a.root, tmp_path / "machine-b")
    key = api_keys(postgres_url, "acme")["acme"]
    host_b = HostProcess(tmp_path / "machine-b", {**os.environ, "PYTHONUNBUFFERED": "1"}, tmp_path / "b.log")
    try:
        host_b.start()
        url = f"{host_b.base}/api/modules/hello/v1/hits"
        assert status_of(url, key) == 200
        result = CliRunner().invoke(app, ["module", "disable", "hello", "-C", str(machine_a.root)])
        assert result.exit_code == 0, result.output
        applied = seconds_until(lambda: status_of(url, key) == 404, message=f"{url} to answer 404")
        assert applied < APPLY_WITHIN_SECONDS
        # The log line follows the unload: wait for it rather than race it.
        wait_for(
            lambda: "trigger=module-state" in host_b.log.read_text(),
            message="host B to log trigger=module-state",
        )
    finally:
        host_b.stop()
