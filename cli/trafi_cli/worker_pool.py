"""The supervisor of `trafi serve --workers N`: N worker processes on one port, a dead one replaced.

The supervisor binds the port (one `SO_REUSEPORT` socket per worker slot,
`serving.bind_worker_listeners`) and starts each worker as its own process
(`serve_worker.py`) with its slot's socket: each worker has its own uvicorn,
ModuleHost, instances and threads, and shares nothing with the others but the
database, the project folder and the port. The supervisor itself loads no
module and serves no request, so a worker's crash cannot take it down.

- A worker that exits (killed, crashed) is replaced in its slot, on the same
  socket; one that dies again soon after starting is restarted after a growing
  pause, so a worker failing at once does not spin.
- A worker whose app fails to start before any worker has started means the
  project cannot be served (a database that refuses us, a broken config): the
  supervisor stops the others and exits with that worker's code.
- With `cpus` (`cpu_affinity.worker_cpus`), the worker in slot i runs on `cpus[i - 1]`, a
  replacement too: pinned right after it starts, before it has made any thread.
- SIGTERM or SIGINT to the supervisor stops every worker gracefully (SIGTERM,
  in-flight requests finish), then the supervisor exits 0; a worker still
  running after `STOP_SECONDS` is killed.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from trafi_host.api.worker_role import metrics_socket
from trafi_host.errors import ExitCode

from .cpu_affinity import pin_worker

log = logging.getLogger("trafi.serve")
CHECK_SECONDS = 0.2
STOP_SECONDS = 30.0
# A worker that lived less than this before dying is restarted after a pause that doubles
# each time (up to MAX_RESTART_PAUSE_SECONDS); one that lived longer is restarted at once.
SHORT_LIFE_SECONDS = 10.0
FIRST_RESTART_PAUSE_SECONDS = 0.5
MAX_RESTART_PAUSE_SECONDS = 10.0


@dataclass
class _Slot:
    index: int
    listener: socket.socket
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float = 0.0
    pause: float = 0.0


# The command line of the worker in a slot: (listening socket's fd, slot 1..N, run folder).
WorkerCommand = Callable[[int, int, Path], list[str]]


class WorkerPool:
    def __init__(
        self, listeners: list[socket.socket], command: WorkerCommand, cpus: list[int] | None = None
    ) -> None:
        self.command = command
        self.cpus = cpus
        self.slots = [_Slot(index, listener) for index, listener in enumerate(listeners, start=1)]
        self.run_dir = Path(tempfile.mkdtemp(prefix="trafi-serve-"))
        self._stopping = threading.Event()
        self._any_started = False

    def run(self) -> int:
        """Serve until told to stop; the exit code for `trafi serve`."""
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            host, port = self.slots[0].listener.getsockname()[:2]
            log.info(
                "serving on http://%s:%d with %d worker processes%s",
                host,
                port,
                len(self.slots),
                f", on CPUs {', '.join(map(str, self.cpus))}" if self.cpus else "",
            )
            for slot in self.slots:
                self._start(slot)
            code: int = ExitCode.OK
            while not self._stopping.wait(CHECK_SECONDS):
                failed = self._check()
                if failed is not None:
                    code = failed
                    break
            self._stop_all()
            return int(code)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for slot in self.slots:
                slot.listener.close()
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping the workers", signal.Signals(signum).name)
        self._stopping.set()

    def _start(self, slot: _Slot) -> None:
        fd = slot.listener.fileno()
        # A process group of its own: Ctrl-C in a terminal reaches the supervisor alone, which
        # stops each worker with one SIGTERM (a second signal would make uvicorn skip its drain).
        slot.process = subprocess.Popen(
            self.command(fd, slot.index, self.run_dir), pass_fds=(fd,), process_group=0
        )
        # Popen returns once the worker has exec'd: it has one thread yet, and every thread it
        # makes from there inherits the CPU.
        pin_worker(slot.process.pid, slot.index, self.cpus)
        slot.started_at = time.monotonic()
        log.info("worker %d started (pid %d)", slot.index, slot.process.pid)

    def _check(self) -> int | None:
        """Replace the workers that exited; an exit code if the pool cannot serve."""
        now = time.monotonic()
        for slot in self.slots:
            process = slot.process
            if process is None:
                if now >= slot.restart_at:
                    self._start(slot)
                continue
            if not self._any_started and metrics_socket(self.run_dir, process.pid).exists():
                self._any_started = True
            code = process.poll()
            if code is None:
                continue
            metrics_socket(self.run_dir, process.pid).unlink(missing_ok=True)
            slot.process = None
            if code == ExitCode.OTHER and not self._any_started:
                log.error("worker %d (pid %d) could not start; stopping", slot.index, process.pid)
                return code
            lived = now - slot.started_at
            slot.pause = (
                min(max(slot.pause * 2, FIRST_RESTART_PAUSE_SECONDS), MAX_RESTART_PAUSE_SECONDS)
                if lived < SHORT_LIFE_SECONDS
                else 0.0
            )
            slot.restart_at = now + slot.pause
            log.warning(
                "worker %d (pid %d) exited (%s) after %.1f s; replacing it%s",
                slot.index,
                process.pid,
                _how(code),
                lived,
                f" in {slot.pause:g} s" if slot.pause else "",
            )
        return None

    def _stop_all(self) -> None:
        running = [slot.process for slot in self.slots if slot.process is not None]
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning(
                    "worker pid %d still running %g s after SIGTERM; killing it", process.pid, STOP_SECONDS
                )
                process.kill()
                process.wait()
        log.info("all workers stopped")


def _how(code: int) -> str:
    if code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"exit code {code}"


def default_worker_count() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
