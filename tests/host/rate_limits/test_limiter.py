"""The limiter counts per (module, tenant) in a moving window: in memory, in a real Redis, or in a file."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from trafi_host.rate_limits import file_window, parse_rate
from trafi_host.rate_limits import limiter as limiter_module
from trafi_host.rate_limits.file_window import FileMovingWindow
from trafi_host.rate_limits.limiter import ModuleRateLimiter, RateDecision
from trafi_host.rate_limits.memory_window import SWEEP_EVERY, MemoryMovingWindow
from trafi_host.rate_limits.redis_window import RedisMovingWindow

REDIS_URL = os.environ.get("TRAFI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


def unique_prefix() -> str:
    """Counters of this test only: a Redis shared with other tests and runs holds theirs."""
    return f"trafi-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["memory", "redis"])
def storage_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "memory" else REDIS_URL


async def hits(
    limiter: ModuleRateLimiter, times: int, tenant: str, rate: str = "3/hour"
) -> list[RateDecision]:
    decisions = []
    for _ in range(times):
        decision = await limiter.hit(rate, "hello", tenant)
        assert decision is not None
        decisions.append(decision)
    return decisions


def test_one_tenants_burst_never_throttles_another(storage_url: str | None) -> None:
    async def test() -> None:
        limiter = ModuleRateLimiter(storage_url, unique_prefix())
        try:
            acme = await hits(limiter, 10, "acme")
            assert [d.allowed for d in acme] == [True] * 3 + [False] * 7
            globex = await hits(limiter, 3, "globex")
            assert all(d.allowed for d in globex)
            # Another module of the same tenant has its own count too.
            other = await limiter.hit("3/hour", "testkit", "acme")
            assert other is not None and other.allowed
        finally:
            await limiter.close()

    run(test)


def test_the_decision_counts_down_and_says_when_to_retry(storage_url: str | None) -> None:
    async def test() -> None:
        limiter = ModuleRateLimiter(storage_url, unique_prefix())
        try:
            first, second, third, refused = await hits(limiter, 4, "acme")
        finally:
            await limiter.close()
        assert [d.remaining for d in (first, second, third, refused)] == [2, 1, 0, 0]
        assert first.headers()["RateLimit-Limit"] == "3"
        assert first.headers()["RateLimit-Policy"] == "3;w=3600"
        assert "Retry-After" not in first.headers()
        # The oldest request leaves the hour-long window in (almost) an hour.
        assert 3590 <= int(refused.headers()["Retry-After"]) <= 3600
        assert refused.headers()["RateLimit-Reset"] == refused.headers()["Retry-After"]

    run(test)


def test_a_changed_rate_starts_a_fresh_count(storage_url: str | None) -> None:
    async def test() -> None:
        limiter = ModuleRateLimiter(storage_url, unique_prefix())
        try:
            assert [d.allowed for d in await hits(limiter, 2, "acme", "1/hour")] == [True, False]
            assert [d.allowed for d in await hits(limiter, 2, "acme", "2/hour")] == [True, True]
        finally:
            await limiter.close()

    run(test)


def test_limiters_on_one_redis_share_the_count_and_prefixes_keep_stores_apart() -> None:
    async def test() -> None:
        prefix = unique_prefix()
        first, second = ModuleRateLimiter(REDIS_URL, prefix), ModuleRateLimiter(REDIS_URL, prefix)
        other_store = ModuleRateLimiter(REDIS_URL, unique_prefix())
        try:
            assert [d.allowed for d in await hits(first, 2, "acme")] == [True, True]
            assert [d.allowed for d in await hits(second, 2, "acme")] == [True, False]
            assert [d.allowed for d in await hits(other_store, 3, "acme")] == [True, True, True]
        finally:
            for limiter in (first, second, other_store):
                await limiter.close()

    run(test)


def test_limiters_on_one_file_share_the_count_and_another_file_keeps_its_own(tmp_path: Path) -> None:
    async def test() -> None:
        shared = tmp_path / "run" / "rate-limits.sqlite3"
        shared.parent.mkdir()
        first = ModuleRateLimiter(None, shared_file=shared)
        second = ModuleRateLimiter(None, shared_file=shared)
        other_run = ModuleRateLimiter(None, shared_file=tmp_path / "other.sqlite3")
        try:
            assert first.storage == second.storage == "file"
            assert [d.allowed for d in await hits(first, 2, "acme")] == [True, True]
            assert [(d.allowed, d.remaining) for d in await hits(second, 2, "acme")] == [
                (True, 0),
                (False, 0),
            ]
            assert [d.allowed for d in await hits(first, 1, "acme")] == [False]
            assert [d.allowed for d in await hits(second, 3, "globex")] == [True, True, True]
            assert [d.allowed for d in await hits(other_run, 3, "acme")] == [True, True, True]
        finally:
            for limiter in (first, second, other_run):
                await limiter.close()

    run(test)


def test_redis_wins_over_the_shared_file(tmp_path: Path) -> None:
    limiter = ModuleRateLimiter(REDIS_URL, unique_prefix(), shared_file=tmp_path / "unused.sqlite3")
    try:
        assert limiter.storage == "redis"
        assert not (tmp_path / "unused.sqlite3").exists()
    finally:
        run(limiter.close)


def test_a_file_another_worker_holds_too_long_lets_requests_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker stuck inside its write (stopped with SIGSTOP, say) must not stop the others'
    requests: past the timeout they pass unlimited, and the failure is counted, as for Redis."""
    monkeypatch.setattr(limiter_module, "FILE_TIMEOUT_SECONDS", 0.05)
    shared = tmp_path / "rate-limits.sqlite3"

    async def test() -> None:
        limiter = ModuleRateLimiter(None, shared_file=shared)
        stuck = sqlite3.connect(shared, isolation_level=None)
        try:
            stuck.execute("BEGIN IMMEDIATE")  # the other worker's write, never committed
            assert await limiter.hit("1/hour", "hello", "acme") is None
            assert limiter.errors == 1
            stuck.execute("ROLLBACK")
            limiter._failing_until = 0.0  # the retry pause has passed
            decision = await limiter.hit("1/hour", "hello", "acme")
            assert decision is not None and decision.allowed
        finally:
            stuck.close()
            await limiter.close()

    run(test)
    assert [r.getMessage() for r in caplog.records if "rate_limit_storage_failed" in r.getMessage()]


KILLED_MID_COUNT = """
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
for _ in range(50):  # a count that never commits: its rows and its lock
    db.execute("INSERT INTO hits (key, until) VALUES (?, 1e12)", (sys.argv[2],))
db.execute("UPDATE windows SET size = size + 50 WHERE key = ?", (sys.argv[2],))
print("holding", flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_worker_killed_in_the_middle_of_a_count_leaves_nothing_half_written(tmp_path: Path) -> None:
    shared = tmp_path / "rate-limits.sqlite3"
    item = parse_rate("3/hour")
    key = item.key_for("hello", "acme")

    async def test() -> None:
        limiter = ModuleRateLimiter(None, shared_file=shared)
        try:
            assert [d.allowed for d in await hits(limiter, 1, "acme")] == [True]
            killed = subprocess.run(
                [sys.executable, "-c", KILLED_MID_COUNT, str(shared), key], capture_output=True, text=True
            )
            assert killed.returncode == -signal.SIGKILL and "holding" in killed.stdout
            # The kernel dropped its lock and SQLite rolls its rows back: the count goes on from 1.
            decisions = await hits(limiter, 3, "acme")
            assert [(d.allowed, d.remaining) for d in decisions] == [(True, 1), (True, 0), (False, 0)]
            assert limiter.errors == 0
        finally:
            await limiter.close()

    run(test)


def test_memory_limiters_do_not_share() -> None:
    async def test() -> None:
        first, second = ModuleRateLimiter(None), ModuleRateLimiter(None)
        assert [d.allowed for d in await hits(first, 3, "acme")] == [True] * 3
        assert [d.allowed for d in await hits(second, 3, "acme")] == [True] * 3

    run(test)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed when the socket is: nothing listens there


def test_without_redis_requests_pass_and_the_failure_is_counted(caplog: pytest.LogCaptureFixture) -> None:
    async def test() -> None:
        limiter = ModuleRateLimiter(f"redis://127.0.0.1:{closed_port()}/0", unique_prefix())
        try:
            assert await limiter.hit("1/hour", "hello", "acme") is None
            assert limiter.errors == 1
            # Not tried again at once: an outage must not add a failed connection to every request.
            assert await limiter.hit("1/hour", "hello", "acme") is None
            assert limiter.errors == 1
        finally:
            await limiter.close()

    run(test)
    assert [r.getMessage() for r in caplog.records if "rate_limit_storage_failed" in r.getMessage()]


@pytest.mark.parametrize("kind", ["memory", "redis", "file"])
def test_the_window_moves_with_time(kind: str, tmp_path: Path) -> None:
    """The three windows at the same instants of a 2-per-second rate: a request is counted again
    once the oldest one is more than a second old, and only the last second is counted."""

    async def test() -> None:
        window = RedisMovingWindow(REDIS_URL, unique_prefix(), 1.0) if kind == "redis" else None
        memory = MemoryMovingWindow()
        file = FileMovingWindow(tmp_path / "window.sqlite3", 1.0) if kind == "file" else None
        item = parse_rate("2/second")

        async def hit(now: float) -> tuple[bool, float, int]:
            if file is not None:
                return file.hit(item, "hello", "acme", now)
            if window is None:
                return memory.hit(item, "hello", "acme", now)
            return await window.hit(item, "hello", "acme", now)

        try:
            at = [await hit(now) for now in (1000.0, 1000.5, 1000.9, 1001.2)]
            # The oldest in the window, plus a second, is when one more fits.
            assert at == [(True, 1001.0, 1), (True, 1001.0, 0), (False, 1001.0, 0), (True, 1001.5, 0)]
            assert await hit(1003.0) == (True, 1004.0, 1)
        finally:
            if window is not None:
                await window.close()
            if file is not None:
                file.close()

    run(test)


def test_idle_memory_windows_are_swept() -> None:
    memory = MemoryMovingWindow()
    item = parse_rate("5/second")
    for tenant in range(100):
        memory.hit(item, "hello", f"t{tenant}", now=1000.0)
    for count in range(SWEEP_EVERY - 100):
        memory.hit(item, "hello", "busy", now=1002.0 + count / SWEEP_EVERY)
    assert len(memory) == 1  # the hundred idle tenants' windows went at the sweep


def test_idle_file_windows_are_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_window, "SWEEP_EVERY", 10)
    window = FileMovingWindow(tmp_path / "window.sqlite3", 1.0)
    item = parse_rate("5/second")
    try:
        for tenant in range(9):
            window.hit(item, "hello", f"t{tenant}", now=1000.0)
        assert window._db.execute("SELECT count(*) FROM hits").fetchone() == (9,)
        window.hit(item, "hello", "late", now=1002.0)  # the tenth count sweeps: only its own is left
        late = item.key_for("hello", "late")
        assert window._db.execute("SELECT key FROM hits").fetchall() == [(late,)]
        assert window._db.execute("SELECT key, size FROM windows").fetchall() == [(late, 1)]
    finally:
        window.close()
