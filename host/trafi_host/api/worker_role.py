"""What a process of `trafi serve --workers N` is: its place among the workers, and where they meet.

The supervising `trafi serve` makes one run folder (short, under the system's
temporary folder: Unix socket paths are limited to ~100 bytes) and gives every
worker it starts the same one; each worker answers its own metrics on a socket
there (`sibling_metrics.py`). The event leader lock lives in the project's state
folder instead, so that it is one per machine and project, whoever started the
processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SOCKET_PREFIX = "worker-"
SOCKET_SUFFIX = ".sock"


@dataclass(frozen=True)
class WorkerRole:
    index: int  # 1..N: the supervisor's slot, kept by the worker that replaces a dead one
    run_dir: Path

    @property
    def rate_limit_file(self) -> Path:
        """Where the workers count rate-limited requests together when there is no Redis."""
        return self.run_dir / "rate-limits.sqlite3"

    def metrics_socket(self, pid: int) -> Path:
        return metrics_socket(self.run_dir, pid)

    def sibling_sockets(self, own_pid: int) -> list[Path]:
        own = self.metrics_socket(own_pid)
        return sorted(p for p in self.run_dir.glob(f"{SOCKET_PREFIX}*{SOCKET_SUFFIX}") if p != own)


def metrics_socket(run_dir: Path, pid: int) -> Path:
    """Where the worker with `pid` answers its metrics; it exists once that worker is serving."""
    return run_dir / f"{SOCKET_PREFIX}{pid}{SOCKET_SUFFIX}"
