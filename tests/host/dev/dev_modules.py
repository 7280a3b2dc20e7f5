"""A module under development for the dev-loop tests: plain source, never built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trafi_host.devserver import DevServer

COUNTER_SOURCE = """\
from trafi_sdk import Module, Request, Response, kv

module = Module("counter")
calls = {"count": 0}


@module.get("/v1/answer")
def answer(request: Request) -> Response:
    calls["count"] += 1
    return Response.json({"answer": ANSWER, "calls": calls["count"]})


@module.get("/v1/stored")
def stored(request: Request) -> Response:
    return Response.json({"stored": kv.increment("stored", 1)})
"""

KEEP_STATE = """

@module.on_reload.snapshot
def hand_over() -> dict:
    return calls


@module.on_reload.restore
def take_over(state: dict) -> None:
    calls.update(state)
"""


def counter_source(answer: object, keep_state: bool = False) -> str:
    return COUNTER_SOURCE.replace("ANSWER", repr(answer)) + (KEEP_STATE if keep_state else "")


def write_counter(folder: Path, answer: object = 1, keep_state: bool = False, **manifest: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "name": "counter",
        "version": "0.1.0",
        "description": "Counts calls in memory and in kv; the dev-loop tests edit it.",
        "author": "Trafi <modules@trafi.dev>",
        "license": "MIT",
        "trafi": "^0.2.0",
        "world": "trafi:host/module@0.2.0",
        "entry": {"backend": "dist/counter.wasm"},
        "build": {"pythonModule": "app"},
        "permissions": {"kv": {"reason": "Counts stored calls."}},
        "limits": {"memoryMb": 64, "timeoutMs": 5000},
        **manifest,
    }
    (folder / "trafi-module.json").write_text(json.dumps(data, indent=2))
    (folder / "app.py").write_text(counter_source(answer, keep_state))
    return folder


def never(module: str, missing: dict[str, str]) -> bool:
    raise AssertionError(f"not asked to confirm: {module} {missing}")


def auth(server: DevServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}"}
