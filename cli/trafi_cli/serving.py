"""Serving the host's app for `trafi serve` and `trafi dev`, on a socket bound before anything loads.

Binding first makes a busy port an immediate error with its own exit code;
left to uvicorn it would come after every module loaded, as uvicorn's exit 3
(which `trafi` uses for an invalid manifest).

With `--workers N`, `bind_worker_listeners` binds one socket per worker on the
same port (`SO_REUSEPORT`): the kernel spreads new connections over them, and
a socket outlives its worker in the supervisor, so connections the kernel gives
a dead worker's socket wait in its backlog for the replacement instead of being
refused.
"""

from __future__ import annotations

import errno
import logging
import socket

import typer
import uvicorn
from fastapi import FastAPI

from trafi_host.errors import ExitCode, TrafiError

from .startup_heap import freeze_startup_heap


class CannotListen(TrafiError):
    """The address and port cannot be bound: in use by another process, or not this machine's."""

    exit_code = ExitCode.CANNOT_LISTEN


def bind_listener(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A socket bound to `host`:`port` (not yet listening: the server does that once started)."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            why = "the port is in use by another process; stop it or choose another --port"
        else:
            why = error.strerror or str(error)
        raise CannotListen(f"cannot listen on {host}:{port}: {why}") from None
    listener.set_inheritable(True)
    return listener


def bind_worker_listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on one port, one per worker.

    The port is first bound alone (no `SO_REUSEPORT`), so that a port another process
    listens on is refused as it is with one worker, and port 0 is chosen once for all."""
    with bind_listener(host, port) as probe:
        port = probe.getsockname()[1]
    listeners: list[socket.socket] = []
    try:
        for _ in range(count):
            listener = bind_listener(host, port, reuse_port=True)
            listeners.append(listener)
            listener.listen(2048)  # uvicorn's default backlog
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    return listeners


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            freeze_startup_heap()
        # uvicorn says where it listens only for sockets it bound itself; people
        # (and tests/cli/test_dev.py) wait for this line.
        if self.started and sockets:
            host, port = sockets[0].getsockname()[:2]
            logging.getLogger("uvicorn.error").info(
                "Uvicorn running on http://%s:%d (Press CTRL+C to quit)", host, port
            )


def run_server(app: FastAPI, listener: socket.socket, log_level: str) -> None:
    """Serve until SIGINT/SIGTERM; closes the listener."""
    server = _Server(uvicorn.Config(app, log_level=log_level))
    with listener:
        try:
            server.run(sockets=[listener])
        except KeyboardInterrupt:
            pass
        except SystemExit:
            pass  # uvicorn's own exit 3 when the app fails to start: answered below
    if not server.started:
        # The app's startup failed; uvicorn logged why.
        raise typer.Exit(ExitCode.OTHER)
