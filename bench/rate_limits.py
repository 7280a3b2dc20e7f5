"""Scenario: what a rate limit adds to a module request, in memory and in Redis, against none;
and what one count costs in each storage, the workers' shared file too.

One project with hello; two apps on it, one counting in memory and one in Redis
(the deployment setting: `TRAFI_REDIS_URL`). In each, tenant `free` has no rate
and tenant `limited` an override it never reaches, so the two differ only by the
limiter's count and headers. Requests go through the whole ASGI app (auth, proxy,
module call) in blocks, the variants interleaved so that drift on a busy machine
falls on all of them alike. The limiter's own cost is measured alone too.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from pathlib import Path

from fastapi.testclient import TestClient

from trafi_host.api import create_app
from trafi_host.auth import create_api_key, create_tenant
from trafi_host.db import Database
from trafi_host.project import Project
from trafi_host.rate_limits import set_override
from trafi_host.rate_limits.limiter import ModuleRateLimiter
from trafi_host.settings import HostSettings

from .fixtures import HELLO, built, make_project
from .report import Row

REDIS_URL = os.environ.get("TRAFI_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# Never reached in a run (about 1,600 requests per tenant): every request pays the count, none
# is refused. In Redis the window lookup is a binary search over the count (log2 of it).
RATE = "10000/hour"
ROUTE = "/api/modules/hello/v1/hits/current"


def _keys(project: Project) -> dict[str, str]:
    with Database(project.database_url()) as database:
        keys = {}
        for tenant in ("free", "limited"):
            create_tenant(database, tenant)
            keys[tenant], _ = create_api_key(database, tenant)
        set_override(database, "hello", RATE, "limited", actor="bench")
    return keys


def _block_us(client: TestClient, key: str, times: int) -> float:
    """Median microseconds of `times` requests."""
    headers = {"Authorization": f"Bearer {key}"}
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        response = client.get(ROUTE, headers=headers)
        samples.append((time.perf_counter() - started) * 1e6)
        assert response.status_code == 200, response.text
    return statistics.median(samples)


def _limiter_alone_us(redis_url: str | None, times: int, shared_file: Path | None = None) -> float:
    async def measure() -> float:
        limiter = ModuleRateLimiter(redis_url, f"trafi-bench-{uuid.uuid4().hex[:8]}", shared_file)
        try:
            for _ in range(50):
                await limiter.hit(RATE, "hello", "warm")
            samples = []
            for _ in range(times):
                started = time.perf_counter()
                decision = await limiter.hit(RATE, "hello", "t")
                samples.append((time.perf_counter() - started) * 1e6)
                assert decision is not None and decision.allowed
            return statistics.median(samples)
        finally:
            await limiter.close()

    return asyncio.run(measure())


def run(work: Path, quick: bool) -> list[Row]:
    built(HELLO)
    bench = make_project(work / "rate-limits", [HELLO])
    keys = _keys(bench.project)
    prefix = f"trafi-bench-{uuid.uuid4().hex[:8]}"
    in_memory = Project.open(bench.project.root, HostSettings(rate_limit_prefix=prefix))
    in_redis = Project.open(bench.project.root, HostSettings(redis_url=REDIS_URL, rate_limit_prefix=prefix))
    rounds, block = (3, 30) if quick else (10, 150)
    medians: dict[str, list[float]] = {"memory": [], "memory-free": [], "redis": [], "redis-free": []}
    with TestClient(create_app(in_memory)) as memory, TestClient(create_app(in_redis)) as redis:
        for client in (memory, redis):  # warm: instances, key cache, Redis connections
            _block_us(client, keys["free"], 20)
            _block_us(client, keys["limited"], 20)
        variants = [
            ("memory-free", memory, "free"),
            ("memory", memory, "limited"),
            ("redis-free", redis, "free"),
            ("redis", redis, "limited"),
        ]
        for index in range(rounds):
            # Every other round backwards: no variant always runs first, or right after another.
            for name, client, tenant in variants if index % 2 == 0 else variants[::-1]:
                medians[name].append(_block_us(client, keys[tenant], block))
        limited = redis.get(ROUTE, headers={"Authorization": f"Bearer {keys['limited']}"})
        assert "RateLimit-Remaining" in limited.headers, "the limited tenant was not counted"
    alone = 500 if quick else 5000
    memory_alone = _limiter_alone_us(None, alone)
    redis_alone = _limiter_alone_us(REDIS_URL, alone)
    file_alone = _limiter_alone_us(None, alone, work / "rate-limits" / "workers.sqlite3")
    value = {name: statistics.median(values) for name, values in medians.items()}
    requests = f"median of {rounds} blocks of {block} requests (ASGI, in process)"
    return [
        Row(
            "rate limits",
            "module route, rate counted in memory",
            value["memory"],
            "us",
            value["memory-free"],
            "same route, no rate",
            "",
            f"adds {value['memory'] - value['memory-free']:+.0f} us; {requests}",
        ),
        Row(
            "rate limits",
            "module route, rate counted in Redis",
            value["redis"],
            "us",
            value["redis-free"],
            "same route, no rate",
            "",
            f"adds {value['redis'] - value['redis-free']:+.0f} us; local Redis, 1 round trip; rate {RATE}",
        ),
        Row("rate limits", "limiter alone, memory (count + window stats)", memory_alone, "us"),
        Row(
            "rate limits",
            "limiter alone, Redis (count + window stats)",
            redis_alone,
            "us",
            memory_alone,
            "memory",
        ),
        Row(
            "rate limits",
            "limiter alone, the workers' shared file (count + window stats)",
            file_alone,
            "us",
            memory_alone,
            "memory",
            "",
            f"`trafi serve --workers N` without Redis; {alone} requests in one window of rate {RATE}",
        ),
    ]
