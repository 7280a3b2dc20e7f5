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

A task goes to the thread that went idle last: its stack, its thread state and the
instance it just used are still in the core's caches. A shared queue woke the thread
idle longest, so one connection's calls went round every thread in turn (in process,
~13 us a module call more).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("trafi.runtime")

_Task = tuple[Future[Any] | None, Callable[[], Any]]


class _Idle:
    """An idle thread's mailbox: its task (None: exit), and the lock it sleeps on until given one."""

    __slots__ = ("task", "wake")

    def __init__(self) -> None:
        self.task: _Task | None = None
        self.wake = threading.Lock()
        self.wake.acquire()


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
        # Under `_lock`: tasks no thread has taken yet ((None, work): a task whose work answers its
        # caller itself, a guarded call), and the idle threads, the one idle last on top.
        self._tasks: deque[_Task] = deque()
        self._idle: list[_Idle] = []
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
    def idle_now(self) -> int:
        """Threads waiting for a task."""
        with self._lock:
            return len(self._idle)

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
        if pending is None or self._tasks:
            self._put(None, work)
        else:
            pending.append(work)
            with self._lock:
                self.stats.followed += 1

    def _put(self, future: Future[Any] | None, work: Callable[[], Any]) -> None:
        started = woken = None
        with self._lock:
            if self._closed:
                raise RuntimeError("the wasm worker threads are shut down")
            # The thread idle last takes it; otherwise it waits for a thread, and one is started
            # while under `workers`.
            if self._idle:
                woken = self._idle.pop()
                woken.task = (future, work)
            else:
                self._tasks.append((future, work))
                if len(self._working) < self.workers:
                    started = self._new_thread()
        # Outside the lock: the woken thread does not wait for it, a slow start holds up no one.
        if woken is not None:
            woken.wake.release()
        if started is not None:
            started.start()

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
            queued, self._tasks = list(self._tasks), deque()
            idle, self._idle = self._idle, []
        for future, _work in queued:
            if future is not None:
                future.cancel()
        for mailbox in idle:  # its task stays None: exit
            mailbox.wake.release()

    def _new_thread(self) -> threading.Thread:
        """A thread counted in the working set (under the lock); the caller starts it after."""
        thread = threading.Thread(target=self._run, name=f"{self.name}-{self.stats.started}", daemon=True)
        self._working.add(thread)
        self.stats.started += 1
        self.stats.peak = max(self.stats.peak, len(self._working) + len(self._abandoned))
        return thread

    def _next_task(self, me: threading.Thread, mailbox: _Idle) -> _Task | None:
        """The next task for this thread, waiting idle for one; None: exit (shut down, or replaced)."""
        with self._lock:
            if me in self._abandoned:  # replaced meanwhile: this thread's place is taken
                self._abandoned.discard(me)
                return None
            if self._tasks:
                return self._tasks.popleft()
            if self._closed:
                return None
            self._idle.append(mailbox)
        mailbox.wake.acquire()
        task, mailbox.task = mailbox.task, None
        return task

    def _run(self) -> None:
        me = threading.current_thread()
        pending: deque[Callable[[], None]] = deque()
        self._local.pending = pending
        mailbox = _Idle()
        while True:
            item = self._next_task(me, mailbox)
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
            self._working.discard(me)  # (an abandoned thread is in `_abandoned` no more, nor here)


def _run_guarded(work: Callable[[], Any]) -> None:
    try:
        work()
    except BaseException:  # its own caller was told already, or never will be
        log.exception("a wasm worker task failed outside its guarded call")
