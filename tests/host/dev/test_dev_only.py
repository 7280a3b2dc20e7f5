"""The dev runtime serves only under `trafi dev`: the host refuses it elsewhere, and so does the
component itself when no module source is given to it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.host.dev.dev_modules import never, write_counter
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.dev.event_stream import DevEventStream
from trafi_host.dev.reloader import DevModules
from trafi_host.devserver import DevServer
from trafi_host.errors import ComponentError, ModuleStartError
from trafi_host.module_host import ModuleHost
from trafi_host.project import Project
from trafi_host.runtime import ModuleRuntime


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("dev-only")
    with DevServer.start(root / "project", [write_counter(root / "counter")], never) as server:
        server.watcher.stop()
        yield server


def test_a_runtime_not_made_for_dev_refuses_a_dev_image(dev: DevServer, tmp_path: Path) -> None:
    image = dev.host.images["counter"]
    with ModuleRuntime(tmp_path / "artifacts", host_capabilities(MemoryKv())) as serving:
        with pytest.raises(ComponentError, match="only under `trafi dev`"):
            serving.instantiate(image, "demo")


def test_the_dev_runtime_component_without_a_source_refuses_to_start(dev: DevServer) -> None:
    bare = dataclasses.replace(dev.host.images["counter"], dev_code=None, digest="bare")
    with pytest.raises(ModuleStartError, match="runs only under `trafi dev`"):
        dev.host.runtime.trial_start(bare, dev.host.trial_capabilities)


def test_dev_modules_need_a_host_made_for_dev(tmp_path: Path) -> None:
    with ModuleHost(Project.init(tmp_path / "project")) as host:
        with pytest.raises(ValueError, match="dev=True"):
            DevModules(host, tmp_path / "dev", DevEventStream(), never)
