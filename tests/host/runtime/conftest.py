"""A runtime per test, on the session's shared artifact cache, with in-memory kv."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.runtime import ModuleRuntime


@pytest.fixture
def runtime(shared_artifact_cache: Path) -> Iterator[ModuleRuntime]:
    with ModuleRuntime(shared_artifact_cache, MemoryKv()) as runtime:
        yield runtime
