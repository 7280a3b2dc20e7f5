"""The host's app on a real socket (uvicorn in a thread), for tests that want real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from tests.polling import wait_for
from trafi_cli.serving import bind_listener


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serves `app` on 127.0.0.1 (a free port) until the block ends; yields its base URL."""
    listener = bind_listener("127.0.0.1", 0)
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), timeout=120, message="the server to start")
        assert thread.is_alive(), "the server stopped while starting"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        listener.close()
