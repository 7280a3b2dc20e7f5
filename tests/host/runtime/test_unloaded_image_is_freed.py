"""An unloaded module is freed by reference counting alone: no reference cycle holds it.

`trafi serve` freezes the started host's heap (`trafi_cli/startup_heap.py`): the collector
never looks at those objects again, so a module loaded at start and later unloaded (an update,
a disable) must not need the collector to be freed. Here with the collector off.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.polling import wait_for
from trafi_host.manifest.load import load_manifest
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_an_unloaded_image_and_its_instances_need_no_collection(
    runtime: ModuleRuntime, hello_dir: Path, collector_off: None
) -> None:
    image = runtime.load_image(load_manifest(hello_dir), hello_dir)
    answer = asyncio.run(
        runtime.call_http(image, ModuleRequest("GET", "/v1/hits", "acme", Principal("key-1")))
    )
    assert answer.status == 200
    assert runtime.pool.live == 1  # its instance, pooled
    held_image = weakref.ref(image)
    held_component = weakref.ref(image.component)
    runtime.unload(image.name)
    assert runtime.pool.live == 0
    del image, answer
    # The worker thread drops its task's closure just after answering: wait for that, with the
    # collector still off (a cycle would keep them for good and this would time out).
    wait_for(lambda: held_image() is None, timeout=30, message="the unloaded module's image to be freed")
    assert held_component() is None, "the unloaded module's component is still referenced"
