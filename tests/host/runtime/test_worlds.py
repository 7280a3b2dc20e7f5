"""Modules of both worlds side by side: 0.1.0 components keep running beside 0.2.0 ones, and an
interface of 0.2.0 is never offered to a 0.1.0 component."""

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
from trafi_host.manifest.load import load_manifest, parse_manifest
from trafi_host.module_data import shipped_migrations
from trafi_host.runtime import ModuleRequest, ModuleRuntime, Principal
from trafi_host.validation.import_audit import ComponentSurface, audit_imports

REVIEWS = REPO / "modules" / "reviews"


@pytest.mark.slow
def test_a_0_1_and_a_0_2_module_serve_from_one_runtime(hello_dir: Path, tmp_path: Path) -> None:
    build_if_stale(REVIEWS)
    hello, reviews = load_manifest(hello_dir), load_manifest(REVIEWS)
    assert (hello.wit_version, reviews.wit_version) == ("0.1.0", "0.2.0")
    with Database(f"sqlite:///{tmp_path / 'host.db'}") as database:
        database.migrate()
        MigrationRunner(database.engine).sync("reviews", "1.0.0", shipped_migrations(reviews, REVIEWS))
        capabilities = host_capabilities(MemoryKv(), db=ModuleDatabase.on(database.engine))
        with ModuleRuntime(tmp_path / "artifacts", capabilities) as runtime:
            old = runtime.load_image(hello, hello_dir)
            new = runtime.load_image(reviews, REVIEWS)
            deadline = time.monotonic() + 60
            greeting = runtime.call_http_blocking(
                old, ModuleRequest("GET", "/v1/hits/current", "acme", Principal("k")), deadline
            )
            rating = runtime.call_http_blocking(
                new, ModuleRequest("GET", "/v1/products/p1/rating", "acme", Principal("k")), deadline
            )
    assert greeting.status == 200
    assert (rating.status, json.loads(rating.body)) == (200, {"product": "p1", "reviews": 0, "average": None})


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
