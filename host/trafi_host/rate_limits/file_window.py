"""The moving window in a SQLite file: shared by the workers of one `trafi serve --workers N`.

Without Redis each worker counted in its own memory, so N workers let N times
the rate through. The workers are processes of one machine, so a file they all
open in their run folder is enough: each count is one short write transaction
(`BEGIN IMMEDIATE`: the workers take turns) that forgets the key's requests gone
from the window, counts the rest and adds this one if there is room. The same
window as memory_window.py and redis_window.py, measured in bench/rate_limits.py.

A worker killed in the middle of a count leaves nothing half-written: SQLite
rolls its transaction back and the kernel drops its lock. The file lives in the
run folder, which the supervisor removes when the command ends, so counts never
outlive it (as in memory). Durability is not wanted (`synchronous=OFF`): a count
lost to a power cut errs on the side of letting a request through.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from limits import RateLimitItem

SWEEP_EVERY = 10_000
SCHEMA = (
    # One row per request in a window; `until`: when it leaves (its time plus the rate's period).
    "CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, until REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS hits_by_key ON hits (key, until)",
    "CREATE INDEX IF NOT EXISTS hits_by_until ON hits (until)",
    # How many rows each key has in `hits`: a count that costs nothing to read, where counting
    # the rows would cost every request as many steps as a wide rate (10,000/hour) holds.
    "CREATE TABLE IF NOT EXISTS windows (key TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID",
)


class FileMovingWindow:
    def __init__(self, path: Path, timeout_seconds: float) -> None:
        self.path = path
        # Autocommit mode: the transactions are the explicit BEGIN IMMEDIATE ... COMMIT below.
        self._db = sqlite3.connect(
            path, timeout=timeout_seconds, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()
        self._counted = 0
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=OFF")
            for statement in SCHEMA:
                self._db.execute(statement)

    def hit(
        self, item: RateLimitItem, module: str, tenant: str, now: float | None = None
    ) -> tuple[bool, float, int]:
        """Count one request if the window has room: (counted, when one more fits, remaining).
        `now`: the request's time (tests pass their own; the default is the clock).
        Raises sqlite3.Error when the file cannot be written within the timeout."""
        now = time.time() if now is None else now
        expiry = item.get_expiry()
        key = item.key_for(module, tenant)
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                gone = db.execute("DELETE FROM hits WHERE key = ? AND until < ?", (key, now)).rowcount
                row = db.execute("SELECT size FROM windows WHERE key = ?", (key,)).fetchone()
                in_window = (0 if row is None else row[0]) - gone
                counted = in_window < item.amount
                if counted:
                    db.execute("INSERT INTO hits (key, until) VALUES (?, ?)", (key, now + expiry))
                    in_window += 1
                db.execute(
                    "INSERT INTO windows (key, size) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET size = ?",
                    (key, in_window, in_window),
                )
                # When the oldest request counted leaves: one more fits then.
                (leaves,) = db.execute("SELECT min(until) FROM hits WHERE key = ?", (key,)).fetchone()
                self._counted += 1
                if self._counted % SWEEP_EVERY == 0:
                    self._sweep(now)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return counted, now + expiry if leaves is None else leaves, item.amount - in_window

    def _sweep(self, now: float) -> None:
        """Every key's requests gone from their windows (a tenant that went quiet), in the
        transaction of a count."""
        self._db.execute("DELETE FROM hits WHERE until < ?", (now,))
        self._db.execute("DELETE FROM windows WHERE key NOT IN (SELECT key FROM hits)")
        self._db.execute("UPDATE windows SET size = (SELECT count(*) FROM hits WHERE hits.key = windows.key)")

    def close(self) -> None:
        with self._lock:
            self._db.close()
