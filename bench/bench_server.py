"""The host as `trafi serve` runs it, plus one native route doing the module endpoint's work.

`GET /api/native/hits/current` does what hello's `GET /v1/hits/current` does (same
API-key auth, one kv read through the same backend, a JSON answer), so the two
differ only by the trip through the Wasm module.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from trafi_host.api import create_app
from trafi_host.api.auth import authenticate, module_host
from trafi_host.auth import Caller
from trafi_host.project import Project


def make_app(project_dir: Path) -> FastAPI:
    app = create_app(Project.open(project_dir))

    @app.get("/api/native/hits/current")
    async def native_current(request: Request, key: Caller = Depends(authenticate)) -> Response:
        raw = await run_in_threadpool(module_host(request).kv.get, key.tenant_id, "hello", "hits")
        body = json.dumps({"tenant": key.tenant_id, "hits": int(raw) if raw else 0}, separators=(",", ":"))
        return Response(body, media_type="application/json")

    marks_path = os.environ.get("TRAFI_BENCH_CALLGRIND_MARKS")
    if marks_path:
        add_callgrind_marks(app, Path(marks_path))
    return app


def add_callgrind_marks(app: FastAPI, extension: Path) -> None:
    """`POST /bench/callgrind/start` and `/stop/{name}`: the windows bench/instructions.py counts."""
    spec = importlib.util.spec_from_file_location("_callgrind_marks", extension)
    assert spec is not None and spec.loader is not None
    marks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(marks)

    @app.post("/bench/callgrind/quiet")
    def quiet(request: Request) -> Response:
        # The epoch ticker wakes every 5 ms of wall time, and under valgrind a request lasts
        # 50 times longer: stopped, it no longer adds a tick per request (deadlines stop too).
        module_host(request).runtime.ticker.stop()
        return Response(status_code=204)

    @app.post("/bench/callgrind/start")
    def start() -> Response:
        marks.start()
        return Response(status_code=204)

    @app.post("/bench/callgrind/stop/{name}")
    def stop(name: str) -> Response:
        marks.stop(name)
        return Response(status_code=204)


if __name__ == "__main__":
    uvicorn.run(make_app(Path(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
