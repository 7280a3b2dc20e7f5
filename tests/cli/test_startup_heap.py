"""`trafi serve`'s server freezes the started host's heap, so full collections skip it."""

from __future__ import annotations

import gc
import threading
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from fastapi import FastAPI

from trafi_cli.serving import _Server, bind_listener
from trafi_cli.startup_heap import freeze_startup_heap


@pytest.fixture
def unfrozen_after() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test session collects as before


def test_freezing_moves_the_live_heap_out_of_the_collected_generations(unfrozen_after: None) -> None:
    kept = [{"n": n} for n in range(1000)]
    frozen = freeze_startup_heap()
    # Other threads of the test session free frozen objects meanwhile: the count only shrinks.
    assert frozen >= len(kept) and gc.get_freeze_count() <= frozen
    collected = {id(item) for item in gc.get_objects()}  # every generation but the permanent one
    assert not any(id(item) in collected for item in kept)


def test_the_server_freezes_once_the_app_has_started(unfrozen_after: None) -> None:
    started_with: list[int] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started_with.append(gc.get_freeze_count())
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/frozen")
    def frozen() -> dict[str, int]:
        return {"frozen": gc.get_freeze_count()}

    listener = bind_listener("127.0.0.1", 0)
    port = listener.getsockname()[1]
    server = _Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        answer = None
        for _ in range(600):  # the server starts in its own thread: wait for it, not a fixed time
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/frozen", timeout=5) as response:
                    answer = response.read()
                break
            except OSError:
                threading.Event().wait(0.05)
        assert answer is not None, "the server never answered"
        assert started_with == [0]  # the app's own startup ran before the freeze
        assert gc.get_freeze_count() > 0
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        listener.close()
