"""One event leader per machine and project: the process that runs the relay, the sweeper and the job workers.

Under `trafi serve --workers N` each worker is a whole host. Its relay, sweeper
and job consumer would be correct in every worker (an event is claimed in a
transaction, a delivery under a lease, a requeue by one sweeper), but N of each
poll the database N times as often and multiply `host.jobWorkers` by N. So the
workers elect one leader with an exclusive `flock` on a file in the project's
state folder. The kernel releases the lock when its holder exits, however it
exits (`kill -9` included), so a surviving worker takes over at its next try;
what the dead leader had in hand is a claimed delivery whose lease runs out and
is swept again (docs/events.md: at-least-once), never a lost event.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = "event-leader.lock"


class EventLeader:
    """Who among the processes sharing `state_dir` runs the event loops; `try_lead` until it does."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def leading(self) -> bool:
        return self._fd is not None

    def try_lead(self) -> bool:
        """Take the lock if it is free; True while this process holds it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        # For people looking at the folder; the lock, not the content, is what counts.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = None
