"""A runtime per test, on the session's shared artifact cache, with in-memory kv."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.runtime import ModuleRuntime


@pytest.fixture
def runtime(shared_artifact_cache: Path) -> Iterator[ModuleRuntime]:
    runtime = ModuleRuntime(shared_artifact_cache, host_capabilities(MemoryKv()))
    yield runtime
    runtime.close()
