"""One worker of `trafi serve --workers N`: started by the supervisor (`worker_pool.py`), never by hand.

It inherits its listening socket as a file descriptor, builds its own
ModuleHost and app, and serves until SIGTERM or SIGINT, like `trafi serve`
with one process. If the supervisor dies, the kernel sends it SIGTERM
(Linux's parent-death signal), so no worker outlives the command that
started it. It exits with `ExitCode.OTHER` if its app fails to start, which
tells the supervisor that a replacement would fail the same way.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import logging
import os
import signal
import socket
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


def worker_command(project: Path, fd: int, index: int, run_dir: Path, log_level: str) -> list[str]:
    """The command line the supervisor starts a worker with."""
    return [
        sys.executable,
        "-m",
        "trafi_cli.serve_worker",
        "--project",
        str(project),
        "--fd",
        str(fd),
        "--index",
        str(index),
        "--run-dir",
        str(run_dir),
        "--log-level",
        log_level,
    ]


def _die_with_parent(parent: int) -> None:
    libc_name = ctypes.util.find_library("c")
    if libc_name is None or not sys.platform.startswith("linux"):
        return  # elsewhere a worker notices its parent is gone only when the port closes
    ctypes.CDLL(libc_name, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="trafi-serve-worker")
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    _die_with_parent(os.getppid())
    logging.basicConfig(
        level=args.log_level.upper(),
        format=f"%(asctime)s %(levelname)s %(name)s [worker {args.index}, pid %(process)d]: %(message)s",
    )

    import typer

    from trafi_host.api import create_app
    from trafi_host.api.worker_role import WorkerRole
    from trafi_host.errors import ExitCode
    from trafi_host.project import Project

    from .serving import run_server

    listener = socket.socket(fileno=args.fd)
    try:
        app = create_app(Project.open(args.project), worker=WorkerRole(args.index, args.run_dir))
        run_server(app, listener, args.log_level)
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
    except Exception:
        logging.getLogger("trafi.serve").exception("worker %d could not start", args.index)
        sys.exit(ExitCode.OTHER)


if __name__ == "__main__":
    main()
