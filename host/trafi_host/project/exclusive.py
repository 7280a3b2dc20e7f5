"""The project lock: one command at a time changes the config, the lock file and the module folders.

A `flock` on `.trafi/command.lock`, so it works across processes and is
released by the kernel when its holder dies (a SIGKILLed command never leaves
the project locked). The holder writes its pid into the file while it holds
it, so a command that waits can say whom it waits for; the file is emptied on
release. Reentrant within a process: a command holding it may call code that
takes it again (`lifecycle.disable` inside `lifecycle.remove`); other threads
of the same process wait for it like other processes do.

Hosts never take it: they only read the config and follow the database.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ProjectBusyError
from ..settings import variable_name

log = logging.getLogger("trafi.project")

LOCK_NAME = "command.lock"
_POLL_SECONDS = 0.05
_PID_GRACE_SECONDS = 1.0  # how long a waiter waits for the holder's pid before saying it does not know it

WaitNotice = Callable[[str], None]


@dataclass
class _Holder:
    """This process's hold on one lock file: the thread owning it and how many times it entered."""

    rlock: threading.RLock = field(default_factory=threading.RLock)
    depth: int = 0
    fd: int | None = None


_holders: dict[Path, _Holder] = {}
_holders_guard = threading.Lock()


def lock_path(state_dir: Path) -> Path:
    return state_dir / LOCK_NAME


def _holder_for(path: Path) -> _Holder:
    with _holders_guard:
        return _holders.setdefault(path, _Holder())


def holder_pid(path: Path) -> int | None:
    """The pid the holder wrote, if any (a holder that just took the lock may not have yet)."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def held_here(state_dir: Path) -> bool:
    """Whether this process holds the project lock (some thread of it)."""
    holder = _holders.get(lock_path(state_dir))
    return holder is not None and holder.depth > 0


def _take_flock(path: Path, timeout: float, on_wait: WaitNotice | None) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    started = time.monotonic()
    told = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                pid = holder_pid(path)
                if not told and on_wait is not None and (pid is not None or waited >= _PID_GRACE_SECONDS):
                    who = f"pid {pid}" if pid is not None else "pid unknown"
                    on_wait(
                        f"another command is running ({who}), waiting for it to finish "
                        f"(up to {timeout:g} s, {variable_name('project_lock_timeout')})…"
                    )
                    told = True
                if waited >= timeout:
                    who = f" (pid {pid})" if pid is not None else ""
                    raise ProjectBusyError(
                        f"{path.parent.parent}: another command{who} still holds the project lock "
                        f"after {timeout:g} s; try again when it has finished, or raise "
                        f"{variable_name('project_lock_timeout')}"
                    ) from None
                time.sleep(min(_POLL_SECONDS, max(timeout - waited, 0.001)))
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _release_flock(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextmanager
def exclusive_lock(state_dir: Path, timeout: float, on_wait: WaitNotice | None = None) -> Iterator[None]:
    """Hold the project lock of `state_dir`, waiting up to `timeout` seconds (ProjectBusyError after).

    `on_wait` is told once, naming the holder's pid, when the lock is not free at once
    (default: a warning on the `trafi.project` logger).
    """
    path = lock_path(state_dir)
    holder = _holder_for(path)
    notice = on_wait if on_wait is not None else log.warning
    if not holder.rlock.acquire(timeout=max(timeout, 0)):
        raise ProjectBusyError(
            f"{state_dir.parent}: another thread of this process still holds the project lock "
            f"after {timeout:g} s"
        )
    try:
        if holder.depth == 0:
            holder.fd = _take_flock(path, timeout, notice)
        holder.depth += 1
    except BaseException:
        holder.rlock.release()
        raise
    try:
        yield
    finally:
        holder.depth -= 1
        if holder.depth == 0 and holder.fd is not None:
            fd, holder.fd = holder.fd, None
            _release_flock(fd)
        holder.rlock.release()


@contextmanager
def lock_if_free(state_dir: Path) -> Iterator[bool]:
    """The project lock if nobody holds it now (True), else nothing (False): for work that
    only makes sense when no command is running (recovery and sweeping at a host's start)."""
    held = ExitStack()
    try:
        held.enter_context(exclusive_lock(state_dir, 0, on_wait=lambda _message: None))
        free = True
    except ProjectBusyError:
        free = False
    with held:
        yield free
