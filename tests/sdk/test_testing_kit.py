"""trafi_sdk.testing: the fakes behave as the host does, and a scaffolded module's tests pass."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from trafi_host.capabilities.commerce import host as commerce_host
from trafi_host.capabilities.events import host as events_host
from trafi_host.capabilities.kv import host as kv_host
from trafi_host.capabilities.services import host as services_host
from trafi_host.scaffold import scaffold_module
from trafi_sdk import AccessDenied, InvalidArgument, LimitExceeded, NotFound, Unavailable, kv
from trafi_sdk.testing import ModuleHarness, records
from trafi_sdk.testing import _fakes as fakes

REPO = Path(__file__).resolve().parents[2]


def module(tmp_path: Path, source: str, **manifest: object) -> Path:
    """A module folder with `app.py` = `source` and a manifest with `manifest`'s keys."""
    folder = tmp_path / "probe"
    folder.mkdir()
    document = {
        "name": "probe",
        "version": "1.0.0",
        "description": "probe",
        "author": "A <a@example.com>",
        "license": "MIT",
        "trafi": "^0.1.0",
        "world": "trafi:host/module@0.2.0",
        "entry": {"backend": "dist/probe.wasm"},
        **manifest,
    }
    (folder / "trafi-module.json").write_text(json.dumps(document))
    (folder / "app.py").write_text(
        "from trafi_sdk import Module, Request, Response\nmodule = Module('probe')\n" + source
    )
    return folder


def test_the_fakes_limits_are_the_hosts() -> None:
    assert (fakes.MAX_KEY_BYTES, fakes.MAX_VALUE_BYTES, fakes.MAX_LIST) == (
        kv_host.MAX_KEY_BYTES,
        kv_host.MAX_VALUE_BYTES,
        kv_host.MAX_LIST,
    )
    assert fakes.MAX_EVENT_PAYLOAD == events_host.MAX_PAYLOAD
    assert fakes.MAX_NOTE == commerce_host.MAX_NOTE
    assert fakes.MAX_SERVICE_PAYLOAD == services_host.MAX_PAYLOAD


def test_kv_refuses_as_the_host_does(tmp_path: Path) -> None:
    granted = ModuleHarness(module(tmp_path, "", permissions={"kv": {"reason": "r"}}))
    with granted._calling(None):
        with pytest.raises(InvalidArgument, match="key longer than 512 bytes"):
            kv.set("k" * 513, b"v")
        with pytest.raises(LimitExceeded, match="value larger than 1048576 bytes"):
            kv.set("k", b"x" * ((1 << 20) + 1))
        assert kv.get("missing") is None
        kv.set("n", b"41")
        assert kv.increment("n", 1) == 42
        kv.set("n", str((1 << 63) - 1).encode())
        with pytest.raises(LimitExceeded, match="signed 64-bit"):
            kv.increment("n", 1)


def test_a_module_without_the_grant_is_denied(tmp_path: Path) -> None:
    folder = module(
        tmp_path,
        "from trafi_sdk import kv, commerce, db\n"
        "@module.get('/kv')\ndef k(r: Request) -> Response:\n    return Response.json(kv.get('x'))\n"
        "@module.get('/order')\ndef o(r: Request) -> Response:\n"
        "    return Response.json(commerce.get_order('o1'))\n"
        "@module.get('/db')\ndef d(r: Request) -> Response:\n"
        "    return Response.json(db.table('t').count())\n",
    )
    probe = ModuleHarness(folder)
    with pytest.raises(AccessDenied, match="no 'kv' permission"):
        probe.get("/kv")
    with pytest.raises(AccessDenied, match="no 'orders:read' scope"):
        probe.get("/order")
    with pytest.raises(AccessDenied, match="no 'db' permission"):
        probe.get("/db")


def test_services_only_reach_declared_and_linked_dependencies(tmp_path: Path) -> None:
    folder = module(
        tmp_path,
        "from trafi_sdk import services\n"
        "@module.get('/call/{target}')\ndef c(r: Request) -> Response:\n"
        "    return Response.json(services.call(r.path_params['target'], 'get', {'customer': 'c1'}))\n",
        dependencies={"points": "^1.0.0"},
    )
    probe = ModuleHarness(folder)
    with pytest.raises(AccessDenied, match="not in probe's dependencies"):
        probe.get("/call/loyalty.balance")
    with pytest.raises(Unavailable, match="not running"):
        probe.get("/call/points.balance")
    probe.link(ModuleHarness(REPO / "modules" / "points"))
    assert probe.get("/call/points.balance").json() == {"customer": "c1", "points": 0}
    with pytest.raises(NotFound, match="offers no service 'ledger'"):
        probe.get("/call/points.ledger")


def test_events_emitted_are_recorded_and_checked(tmp_path: Path) -> None:
    folder = module(
        tmp_path,
        "from trafi_sdk import events\n"
        "@module.post('/emit/{name}')\ndef e(r: Request) -> Response:\n"
        "    events.emit(r.path_params['name'], r.json())\n    return Response(204)\n",
    )
    probe = ModuleHarness(folder)
    assert probe.post("/emit/shipped", json={"order": "o1"}).status == 204
    assert [(e.type, e.payload) for e in probe.emitted] == [("probe.shipped", {"order": "o1"})]
    with pytest.raises(InvalidArgument, match="lowercase letters"):
        probe.post("/emit/Shipped", json={})


def test_an_event_is_delivered_only_when_subscribed_and_handled(tmp_path: Path) -> None:
    folder = module(tmp_path, "", events=[{"event": "order.created", "mode": "sync"}])
    probe = ModuleHarness(folder)
    created = records.OrderCreated("o1", "c1", records.OrderStatus.PAID, 100, "EUR")
    with pytest.raises(LookupError, match="does not subscribe"):
        probe.deliver("payment.completed", records.PaymentCompleted("p", "o", 1, "EUR"))
    with pytest.raises(LookupError, match=re.escape("no handler for order.created (add @module.on")):
        probe.deliver("order.created", created)
    with pytest.raises(TypeError, match=r"records\.OrderCreated"):
        probe.deliver("order.created", {"order_id": "o1"})


def test_an_undeclared_metric_or_wrong_labels_are_refused(tmp_path: Path) -> None:
    folder = module(
        tmp_path,
        "from trafi_sdk import metrics\n"
        "@module.get('/count/{name}')\ndef c(r: Request) -> Response:\n"
        "    metrics.counter(r.path_params['name']).inc(**dict(r.query))\n    return Response(204)\n",
        metrics=[{"name": "hits_total", "type": "counter", "help": "h", "labels": ["route"]}],
    )
    probe = ModuleHarness(folder)
    assert probe.get("/count/hits_total", query={"route": "a"}).status == 204
    assert probe.metrics.value("hits_total", route="a") == 1
    with pytest.raises(InvalidArgument, match="declares no metric 'misses_total'"):
        probe.get("/count/misses_total", query={"route": "a"})
    with pytest.raises(InvalidArgument, match="takes route; given path"):
        probe.get("/count/hits_total", query={"path": "a"})


def test_two_harnesses_of_one_module_keep_separate_state() -> None:
    first, second = ModuleHarness(REPO / "modules" / "hello"), ModuleHarness(REPO / "modules" / "hello")
    assert first.get("/v1/hits").json()["hits"] == 1
    assert second.get("/v1/hits").json()["hits"] == 1
    assert first.get("/v1/hits").json()["hits"] == 2


def test_a_scaffolded_modules_tests_pass(tmp_path: Path) -> None:
    target = scaffold_module("gift-cards", tmp_path / "gift-cards")
    assert (target / "tests" / "test_app.py").is_file()
    env = {**os.environ, "PYTHONPATH": str(REPO / "sdk-py")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=target,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_config_starts_from_the_schemas_defaults_as_an_install_does(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {"greeting": {"type": "string", "default": "hi"}, "n": {"type": "integer"}},
    }
    folder = module(
        tmp_path,
        "from trafi_sdk import config\n"
        "@module.get('/c')\ndef c(r: Request) -> Response:\n    return Response.json(config.get_all())\n",
        configSchema=schema,
    )
    assert ModuleHarness(folder).get("/c").json() == {"greeting": "hi"}
    assert ModuleHarness(folder, config={"n": 2}).get("/c").json() == {"greeting": "hi", "n": 2}


def test_a_prisma_only_module_gets_the_tables_the_host_would_create(tmp_path: Path) -> None:
    folder = module(
        tmp_path,
        "from trafi_sdk import db\n"
        "@module.post('/notes')\ndef add(r: Request) -> Response:\n"
        "    row = db.table('note').insert({'text': r.json()['text']}, returning=['id'])\n"
        "    return Response.json(row, status=201)\n"
        "@module.get('/notes')\ndef count(r: Request) -> Response:\n"
        "    return Response.json(db.table('note').count())\n",
        permissions={"db": {"reason": "Keeps notes."}},
    )
    (folder / "migrations").mkdir()
    (folder / "migrations" / "schema.prisma").write_text(
        "model Note {\n  id Int @id @default(autoincrement())\n  text String\n}\n"
    )
    probe = ModuleHarness(folder)
    created = probe.post("/notes", json={"text": "first"})
    assert (created.status, created.json()) == (201, {"id": 1})
    probe.post("/notes", json={"text": "second"})
    assert probe.get("/notes").json() == 2
    (count,) = probe.db.connection().execute("SELECT count(*) FROM mod_probe__note").fetchone()
    assert count == 2
    with pytest.raises(InvalidArgument):
        probe.post("/notes", json={"text": None})
