"""The host as `trafi serve` runs it, plus two native routes doing the module endpoint's work.

`GET /api/native/hits/current` does what hello's `GET /v1/hits/current` does (same
API-key auth, one kv read through the same backend, a JSON answer), so the two
differ only by the trip through the Wasm module; `GET /api/native-lean/hits/current`
does it as a plain route, as the module proxy is written.

`python -m bench.bench_server <project> <port>` serves it in one process;
`... <port> --workers N` as `trafi serve --workers N` does (the same supervisor,
each worker this app), for `bench/workers.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.routing import Route

from trafi_host.api import create_app
from trafi_host.api.app import CHANGE_WATCH_TASK, EVENT_LOOPS_TASK
from trafi_host.api.auth import authenticate, caller_of, module_host
from trafi_host.auth import Caller
from trafi_host.project import Project

if TYPE_CHECKING:
    from trafi_host.api.worker_role import WorkerRole


def make_app(project_dir: Path, worker: WorkerRole | None = None) -> FastAPI:
    app = create_app(Project.open(project_dir), worker=worker)

    @app.get("/api/native/hits/current")
    async def native_current(request: Request, key: Caller = Depends(authenticate)) -> Response:
        return await _current_hits(request, key)

    async def lean_native_current(request: Request) -> Response:
        return await _current_hits(request, await caller_of(request))

    # The two native routes are matched right after the module proxy (the host's first router),
    # so that neither route pays for the host's other routes (FastAPI tries each in turn, at a
    # cost per route) and the module route pays for neither native one. `native` is written as
    # the host's own routes are (a FastAPI route, its caller a dependency), `lean native` as the
    # module proxy is (a plain route calling the same authentication), so that against it the
    # module route differs only by the trip through the Wasm module.
    app.router.add_route("/api/native-lean/hits/current", lean_native_current, methods=["GET"])
    native_routes = app.router.routes[-2:]
    del app.router.routes[-2:]
    # FastAPI's own routes (/openapi.json, /redoc) are plain routes; the first included router
    # is the module proxy's.
    proxy = next(i for i, route in enumerate(app.router.routes) if not isinstance(route, Route))
    app.router.routes[proxy + 1 : proxy + 1] = native_routes

    marks_path = os.environ.get("TRAFI_BENCH_CALLGRIND_MARKS")
    if marks_path:
        add_callgrind_marks(app, Path(marks_path))
    return app


async def _current_hits(request: Request, key: Caller) -> Response:
    raw = await run_in_threadpool(module_host(request).kv.get, key.tenant_id, "hello", "hits")
    body = json.dumps({"tenant": key.tenant_id, "hits": int(raw) if raw else 0}, separators=(",", ":"))
    return Response(body, media_type="application/json")


def add_callgrind_marks(app: FastAPI, extension: Path) -> None:
    """`POST /bench/callgrind/start` and `/stop/{name}`: the windows bench/instructions.py counts."""
    spec = importlib.util.spec_from_file_location("_callgrind_marks", extension)
    assert spec is not None and spec.loader is not None
    marks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(marks)

    @app.post("/bench/callgrind/quiet")
    async def quiet(request: Request) -> Response:
        # What runs whatever the requests do is stopped once warm, so that a window counts what
        # its requests cost: under valgrind a request lasts 50 times longer, and the epoch ticker
        # (every 5 ms), the change watch (4 polls a second) and the event relay, sweeper and job
        # workers would add their polls to each request. Neither route needs them (deadlines stop
        # with the ticker).
        module_host(request).runtime.ticker.stop()
        background = [
            task for task in asyncio.all_tasks() if task.get_name() in (CHANGE_WATCH_TASK, EVENT_LOOPS_TASK)
        ]
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        return Response(status_code=204)

    @app.post("/bench/callgrind/start")
    def start() -> Response:
        marks.start()
        return Response(status_code=204)

    @app.post("/bench/callgrind/stop/{name}")
    def stop(name: str) -> Response:
        marks.stop(name)
        return Response(status_code=204)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("project", type=Path)
    parser.add_argument("port", type=int)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--worker-fd", type=int, help=argparse.SUPPRESS)  # a worker, started by the pool
    parser.add_argument("--worker-index", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from trafi_cli.serving import bind_listener, bind_worker_listeners, run_server

    if args.workers == 1 and args.worker_fd is None:
        # Served as `trafi serve` serves one process (its server, its startup heap freeze).
        run_server(make_app(args.project), bind_listener("127.0.0.1", args.port), "warning")
        return
    # Only the workers' variant needs the supervisor and the worker role.
    from trafi_cli.cpu_affinity import allowed_cpus, worker_cpus
    from trafi_cli.worker_pool import WorkerPool
    from trafi_host.api.worker_role import WorkerRole

    if args.worker_fd is not None:
        app = make_app(args.project, WorkerRole(args.worker_index, args.run_dir))
        run_server(app, socket.socket(fileno=args.worker_fd), "warning")
        return

    def command(fd: int, index: int, run_dir: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "bench.bench_server",
            str(args.project),
            str(args.port),
            "--worker-fd",
            str(fd),
            "--worker-index",
            str(index),
            "--run-dir",
            str(run_dir),
        ]

    # Placed as `trafi serve --workers N` places its workers (its default, `--cpu-affinity auto`).
    listeners = bind_worker_listeners("127.0.0.1", args.port, args.workers)
    sys.exit(WorkerPool(listeners, command, worker_cpus(args.workers, allowed_cpus())).run())


if __name__ == "__main__":
    main()
