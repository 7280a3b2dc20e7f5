"""Modules of every world side by side: 0.1.0 and 0.2.0 components keep running beside 0.3.0
ones, an interface of a newer world is never offered to an older component, and a component
without a newer world's required exports is refused for it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from trafi_host.build import build_if_stale
from trafi_host.capabilities.db.host import ModuleDatabase
from trafi_host.capabilities.db.migrations import MigrationRunner
from trafi_host.capabilities.kv.backend import MemoryKv
from trafi_host.capabilities.registry import host_capabilities
from trafi_host.db import Database
from trafi_host.errors import ComponentError
from trafi_host.manifest.load import load_manifest, parse_manifest
from trafi_host.module_data import shipped_migrations
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal
from trafi_host.validation.import_audit import ComponentSurface, audit_imports

REVIEWS = REPO / "modules" / "reviews"


@pytest.mark.slow
def test_0_1_0_2_and_0_3_modules_serve_from_one_runtime(
    hello_dir: Path, worldkit_dir: Path, tmp_path: Path
) -> None:
    build_if_stale(REVIEWS)
    hello, reviews, kit = load_manifest(hello_dir), load_manifest(REVIEWS), load_manifest(worldkit_dir)
    assert (hello.wit_version, reviews.wit_version, kit.wit_version) == ("0.1.0", "0.2.0", "0.3.0")
    with Database(f"sqlite:///{tmp_path / 'host.db'}") as database:
        database.migrate()
        MigrationRunner(database.engine).sync("reviews", "1.0.0", shipped_migrations(reviews, REVIEWS))
        capabilities = host_capabilities(MemoryKv(), db=ModuleDatabase.on(database.engine))
        with ModuleRuntime(tmp_path / "artifacts", capabilities) as runtime:
            old = runtime.load_image(hello, hello_dir)
            new = runtime.load_image(reviews, REVIEWS)
            newest = runtime.load_image(kit, worldkit_dir)
            offers = [runtime.trial_start(image, capabilities) for image in (old, new, newest)]
            deadline = time.monotonic() + 60
            greeting = runtime.call_http_blocking(
                old, ModuleRequest("GET", "/v1/hits/current", "acme", Principal("k")), deadline
            )
            rating = runtime.call_http_blocking(
                new, ModuleRequest("GET", "/v1/products/p1/rating", "acme", Principal("k")), deadline
            )
            echoed = runtime.call_http_blocking(
                newest, ModuleRequest("POST", "/echo", "acme", Principal("k"), body=b"\x00\xff"), deadline
            )
    assert greeting.status == 200
    assert (rating.status, json.loads(rating.body)) == (200, {"product": "p1", "reviews": 0, "average": None})
    assert (echoed.status, echoed.body) == (200, b"\x00\xff")
    # Only a 0.3.0 module declares routes and views; the older ones declare nothing.
    assert [bool(offer.declarations.routes) for offer in offers] == [False, False, True]


def test_a_0_2_interface_is_unknown_to_a_0_1_component() -> None:
    manifest = parse_manifest(
        {
            "name": "sneaky",
            "version": "1.0.0",
            "description": "Claims the 0.1 world but imports the database.",
            "author": "Ann",
            "license": "MIT",
            "trafi": "^0.1.0",
            "entry": {"backend": "dist/sneaky.wasm"},
            "permissions": {"db": {"reason": "Wants tables."}},
        }
    )
    surface = ComponentSurface(
        imports=("trafi:host/db@0.1.0", "trafi:host/db@0.2.0"),
        exports=("trafi:host/http-handler@0.1.0", "trafi:host/lifecycle@0.1.0"),
    )
    findings = [(f.rule, f.subject) for f in audit_imports(surface, manifest)]
    assert findings == [("TRF-I001", "trafi:host/db@0.1.0")]


def test_a_component_without_the_0_3_exports_is_refused_for_that_world(
    runtime: ModuleRuntime, hello_dir: Path
) -> None:
    """hello's 0.1.0 component under a manifest claiming 0.3.0: refused, naming the world."""
    manifest = load_manifest(hello_dir).model_copy(update={"world": "trafi:host/module@0.3.0"})
    image = runtime.load_image(manifest, hello_dir)
    with pytest.raises(ComponentError, match=r"trafi:host/module@0\.3\.0 world"):
        runtime.trial_start(image, host_capabilities(MemoryKv()))


def test_the_0_3_exports_are_required_of_a_0_3_component() -> None:
    manifest = parse_manifest(
        {
            "name": "partial",
            "version": "1.0.0",
            "description": "Claims 0.3.0 but exports what 0.2.0 did.",
            "author": "Ann",
            "license": "MIT",
            "trafi": "^0.1.0",
            "world": "trafi:host/module@0.3.0",
            "entry": {"backend": "dist/partial.wasm"},
        }
    )
    surface = ComponentSurface(
        imports=("trafi:host/kv@0.3.0",),
        exports=("trafi:host/http-handler@0.3.0", "trafi:host/lifecycle@0.3.0"),
    )
    findings = [(f.rule, f.subject) for f in audit_imports(surface, manifest)]
    assert ("TRF-I005", "trafi:host/routes") in findings
    assert ("TRF-I005", "trafi:host/views") in findings
