"""The wasm worker threads: a fixed number, plus a replacement for each abandoned one, up to a cap.

A guest blocked inside a WASI call (a `time.sleep(60)`, a `poll`) cannot be
interrupted in-process (docs/security.md, "Worker bound"): when its call is
abandoned at the deadline, the thread stays blocked until the WASI call returns.
`abandon` takes that thread out of the working set and starts a replacement, so
the host keeps its `workers` threads serving; an abandoned thread exits as soon as
its task returns. At most `max_abandoned` threads are abandoned at once: beyond
that `abandon` refuses (the thread keeps its place, the host runs one worker
short until it returns) and the runtime quarantines the module instead of
leaking threads. So there are never more than `workers + max_abandoned` threads.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("trafi.runtime")

_Task = tuple[Future[Any] | None, Callable[[], Any]]


@dataclass
class WorkerThreadStats:
    started: int = 0
    abandoned: int = 0  # threads replaced because their call was abandoned
    refused: int = 0  # abandonments over the cap: the thread was not replaced
    peak: int = 0  # most threads alive at once (working + abandoned)
    followed: int = 0  # tasks run next on the thread whose task handed them its slot (`run_next`)


class WorkerThreads:
    def __init__(self, workers: int, max_abandoned: int, name: str = "trafi-wasm") -> None:
        self.workers = workers
        self.max_abandoned = max_abandoned
        self.name = name
        self.stats = WorkerThreadStats()
        # (None, work): a task whose work answers its caller itself (a guarded call).
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._idle = 0  # threads waiting for a task (under `_lock`)
        self._working: set[threading.Thread] = set()
        self._abandoned: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._local = threading.local()  # `pending`: work to run next on this worker thread

    @property
    def abandoned_now(self) -> int:
        with self._lock:
            return len(self._abandoned)

    @property
    def alive(self) -> int:
        with self._lock:
            return len(self._working) + len(self._abandoned)

    def submit(self, work: Callable[[], Any]) -> Future[Any]:
        """Run `work` on a worker thread; its result or exception in the future."""
        future: Future[Any] = Future()
        self._put(future, work)
        return future

    def run_soon(self, work: Callable[[], None]) -> None:
        """Run `work`, which hands its outcome to its caller itself (a guarded call): no future,
        whose condition and callbacks would cost every module call for nothing."""
        self._put(None, work)

    def run_next(self, work: Callable[[], None]) -> None:
        """`run_soon`, but on a worker thread of these: `work` runs on this thread as soon as its
        current task returns. A call handed the bulkhead slot this thread's call just freed so
        starts without waking another thread, or a trip through the event loop. Only for work
        queued as the current task ends: it waits for that task. While other work waits for a
        thread, `work` queues behind it instead: a thread following one busy module's calls
        from one to the next must not starve every other module's."""
        pending: deque[Callable[[], None]] | None = getattr(self._local, "pending", None)
        if pending is None or not self._tasks.empty():
            self._put(None, work)
        else:
            pending.append(work)
            with self._lock:
                self.stats.followed += 1

    def _put(self, future: Future[Any] | None, work: Callable[[], Any]) -> None:
        started = None
        with self._lock:
            if self._closed:
                raise RuntimeError("the wasm worker threads are shut down")
            self._tasks.put((future, work))
            # An idle thread takes it; otherwise start one while under `workers`.
            if self._idle > 0:
                self._idle -= 1
            elif len(self._working) < self.workers:
                started = self._new_thread()
        if started is not None:
            started.start()  # outside the lock: a slow thread start holds up no one else

    def abandon(self, thread: threading.Thread) -> bool:
        """Replace `thread` (blocked in its task); False when the cap refuses, the thread then stays."""
        with self._lock:
            if thread not in self._working:
                return True  # already exited, or already abandoned
            if len(self._abandoned) >= self.max_abandoned:
                self.stats.refused += 1
                return False
            self._working.discard(thread)
            self._abandoned.add(thread)
            self.stats.abandoned += 1
            replacement = None if self._closed else self._new_thread()
        if replacement is not None:
            replacement.start()
        return True

    def shutdown(self) -> None:
        """No new work; idle threads exit. Blocked ones are daemon threads: they never hold the exit."""
        with self._lock:
            self._closed = True
            count = len(self._working)
        while True:
            try:
                item = self._tasks.get_nowait()
            except queue.Empty:
                break
            if item is not None and item[0] is not None:
                item[0].cancel()
        for _ in range(count):
            self._tasks.put(None)

    def _new_thread(self) -> threading.Thread:
        """A thread counted in the working set (under the lock); the caller starts it after."""
        thread = threading.Thread(target=self._run, name=f"{self.name}-{self.stats.started}", daemon=True)
        self._working.add(thread)
        self.stats.started += 1
        self.stats.peak = max(self.stats.peak, len(self._working) + len(self._abandoned))
        return thread

    def _run(self) -> None:
        me = threading.current_thread()
        pending: deque[Callable[[], None]] = deque()
        self._local.pending = pending
        while True:
            item = self._tasks.get()
            if item is None:
                break
            future, work = item
            if future is None:
                _run_guarded(work)
            elif future.set_running_or_notify_cancel():
                try:
                    future.set_result(work())
                except BaseException as error:  # noqa: BLE001 - handed to whoever waits
                    future.set_exception(error)
            del item, future, work
            while pending:  # calls this one's end handed its slot to (`run_next`)
                _run_guarded(pending.popleft())
            with self._lock:
                if me in self._abandoned:  # replaced meanwhile: this thread's place is taken
                    self._abandoned.discard(me)
                    return
                self._idle += 1
        with self._lock:
            self._working.discard(me)


def _run_guarded(work: Callable[[], Any]) -> None:
    try:
        work()
    except BaseException:  # its own caller was told already, or never will be
        log.exception("a wasm worker task failed outside its guarded call")
