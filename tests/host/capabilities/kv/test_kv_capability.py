"""`trafi:host/kv`: refused without the grant, scoped to tenant and module with it."""

from __future__ import annotations

import pytest

from tests.host.capabilities.grant_checks import manifest_with
from tests.host.capabilities.harness import call_host_function
from trafi_host.capabilities.kv.backend import COUNTER_MAX, COUNTER_MIN, KvBackend, MemoryKv
from trafi_host.capabilities.kv.host import KvCapability
from trafi_host.capabilities.kv.sql_store import SqlKv
from trafi_host.db import Database


def test_without_the_grant_every_call_is_denied_and_reported() -> None:
    capability = KvCapability(MemoryKv())
    denied: list[str] = []
    result = call_host_function(capability, capability.get, "k", denied=denied)
    assert (result.tag, denied) == (
        "access-denied",
        ["kv: module listener has no 'kv' permission in its manifest"],
    )


def test_values_are_scoped_to_the_calling_tenant() -> None:
    kv = MemoryKv()
    capability = KvCapability(kv)
    granted = manifest_with({"kv": {"reason": "Keeps counters."}}).permissions
    assert call_host_function(capability, capability.set, "k", b"1", permissions=granted) is None
    assert call_host_function(capability, capability.get, "k", permissions=granted) == b"1"
    other = call_host_function(capability, capability.get, "k", permissions=granted, tenant="globex")
    assert other.tag == "not-found"
    assert kv.get("acme", "listener", "k") == b"1"


def test_without_a_store_the_call_says_unavailable() -> None:
    capability = KvCapability()
    granted = manifest_with({"kv": {"reason": "Keeps counters."}}).permissions
    assert call_host_function(capability, capability.get, "k", permissions=granted).tag == "unavailable"


@pytest.mark.parametrize("backend", ["memory", "sql"])
@pytest.mark.parametrize(
    ("start", "delta"), [(COUNTER_MAX, 1), (COUNTER_MAX, COUNTER_MAX), (COUNTER_MIN, -1)]
)
def test_a_counter_never_leaves_the_s64_range(
    backend: str, start: int, delta: int, database_url: str
) -> None:
    database = None
    if backend == "sql":
        database = Database(database_url)
        database.migrate()
        kv: KvBackend = SqlKv(database)
    else:
        kv = MemoryKv()
    capability = KvCapability(kv)
    granted = manifest_with({"kv": {"reason": "Keeps counters."}}).permissions
    try:
        kv.set("acme", "listener", "n", str(start).encode())
        result = call_host_function(capability, capability.increment, "n", delta, permissions=granted)
        assert result.tag == "limit-exceeded"
        assert kv.get("acme", "listener", "n") == str(start).encode()  # unchanged
    finally:
        if database is not None:
            database.close()
