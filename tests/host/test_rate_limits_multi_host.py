"""Two `trafi serve` processes on one PostgreSQL and one Redis hold one rate limit between them.

The count of a tenant's requests is in Redis, so the limit holds for the
deployment, not per process: a tenant spreading its requests over two hosts
gets no more than the rate, and another tenant loses nothing. An override set
while they run reaches both.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
import uuid
from email.message import Message
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import api_keys, install_modules
from tests.host.test_multi_host import REDIS_URL, HostProcess, postgres_url, redis_available
from tests.polling import wait_for
from trafi_cli.main import app
from trafi_host.project import Project

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
__all__ = ["postgres_url", "redis_available"]  # fixtures, used by name


def answer(url: str, key: str) -> tuple[int, Message]:
    """The status and the headers (looked up whatever the case of their names)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.headers
    except urllib.error.HTTPError as error:
        return int(error.code), error.headers


def test_two_hosts_share_one_tenants_rate_through_redis(
    tmp_path: Path,
    hello_dir: Path,
    postgres_url: str,
    redis_available: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRAFI_DATABASE_URL", postgres_url)
    monkeypatch.setenv("TRAFI_REDIS_URL", REDIS_URL)
    # This test's counters only: the Redis is shared with other tests and runs.
    monkeypatch.setenv("TRAFI_RATE_LIMIT_PREFIX", f"trafi-test-{uuid.uuid4().hex[:12]}")
    machine_a = Project.init(tmp_path / "machine-a")
    install_modules(machine_a, hello_dir)
    shutil.copytree(machine_a.root, tmp_path / "machine-b")
    keys = api_keys(postgres_url, "acme", "globex")
    runner = CliRunner()
    result = runner.invoke(app, ["ratelimit", "set", "hello", "4/hour", "-C", str(machine_a.root)])
    assert result.exit_code == 0, result.output

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    hosts = [
        HostProcess(machine_a.root, env, tmp_path / "host-a.log"),
        HostProcess(tmp_path / "machine-b", env, tmp_path / "host-b.log"),
    ]
    try:
        for host in hosts:
            host.start()
        a, b = (f"{host.base}/api/modules/hello/v1/hits/current" for host in hosts)
        spread = [answer(url, keys["acme"]) for url in (a, b, a, b)]
        assert [status for status, _ in spread] == [200] * 4
        assert [headers["RateLimit-Remaining"] for _, headers in spread] == ["3", "2", "1", "0"]
        # The fifth request is over the rate on either host.
        assert [answer(url, keys["acme"])[0] for url in (a, b)] == [429, 429]
        assert [answer(url, keys["globex"])[0] for url in (a, b)] == [200, 200]

        # A wider rate for acme, set while both run: each host rereads the overrides.
        result = runner.invoke(
            app, ["ratelimit", "set", "hello", "10/hour", "--tenant", "acme", "-C", str(machine_a.root)]
        )
        assert result.exit_code == 0, result.output
        for url in (a, b):
            wait_for(lambda url=url: answer(url, keys["acme"])[0] == 200, message=f"{url} to let acme in")
        wait_for(
            lambda: all("rate_limits_reloaded" in host.log.read_text() for host in hosts),
            message="both hosts to log rate_limits_reloaded",
        )
    finally:
        for host in hosts:
            host.stop()
