"""A call into a guest that can be abandoned at its deadline, and what it holds meanwhile.

The epoch deadline stops wasm code, not a guest blocked inside a WASI call
(`time.sleep`, `select`, `poll`): wasmtime-py offers no way to interrupt one, nor
to replace only the blocking WASI functions (docs/security.md, "Worker bound").
So a call runs on a worker thread as a `GuardedCall`, and everything it takes (a
bulkhead slot, instances from the pool, its own and those of nested service
calls) is a `Lease` on it. `CallWatchdog` abandons the call if it is still running
at its deadline plus `ABANDON_GRACE_SECONDS`: each lease is given back at once (the
slot to the next caller, the instance's place in the pool; the instance itself is
never reused and is closed when its thread finally returns), and whoever waits gets
the call's abandoned answer. A lease is given back exactly once: at the end of the
call, or at its abandonment, whichever comes first.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from .call_timing import CallTiming

log = logging.getLogger("trafi.runtime")

# After the deadline, the epoch trap of a guest running wasm code ends its call within
# milliseconds; one still running this much later is blocked in a WASI or host call.
ABANDON_GRACE_SECONDS = 0.5

_local = threading.local()


def current_call() -> GuardedCall | None:
    """The guarded call this thread is running, if any."""
    call: GuardedCall | None = getattr(_local, "call", None)
    return call


@dataclass(eq=False)
class Lease:
    """One thing a call holds; `give_back` at the end of the call (abandonment gives it back itself)."""

    on_release: Callable[[], None]  # the call ended normally
    on_abandon: Callable[[], None] = lambda: None  # the call was abandoned: give back now, from the watchdog
    on_return: Callable[[], None] = lambda: None  # the abandoned call's thread came back: clean up there
    module: str = ""
    tenant: str = ""
    timing: CallTiming | None = None  # the guest call this lease is for (an instance), judged at abandonment
    call: GuardedCall | None = None

    def give_back(self) -> None:
        if self.call is None:
            self.on_release()
        else:
            self.call._give_back(self)


def hold(lease: Lease) -> Lease:
    """Registers `lease` with this thread's guarded call (if any); give it back with `give_back`."""
    call = current_call()
    if call is not None:
        call._hold(lease)
    return lease


@dataclass(eq=False)
class GuardedCall:
    module: str
    tenant: str
    what: str  # for logs and incidents: "GET /sleep", "event handler"
    deadline: float  # `time.monotonic()`; abandoned if still running at deadline + grace
    abandoned_answer: Callable[[GuardedCall], Any]  # what the waiting caller gets if abandoned
    thread: threading.Thread | None = None
    abandoned: bool = False
    finished: bool = False
    # The caller's answer counts the module's deadline incident for this call (HTTP: its 504).
    counted: bool = False
    # Judged at the abandonment: the guest's own time ran out (a WASI call), not the host's.
    module_at_fault: bool = False
    # Judged at the abandonment: the call held an instance (its guest had started or was about to).
    had_instance: bool = False
    _held: list[Lease] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _watchdog: CallWatchdog | None = None  # watching this call until it finishes
    # The answer, given once: (value, None) or (None, error). Handed to `_receiver` (the HTTP path's
    # loop) and, for those who block on it, to a `Future` made only when asked for (`result`): a
    # Future per call costs its condition, lock and callbacks on every module call.
    _outcome: tuple[Any, BaseException | None] | None = None
    _receiver: Callable[[Any, BaseException | None], None] | None = None
    _future: Future[Any] | None = None

    @property
    def abandon_at(self) -> float:
        return self.deadline + ABANDON_GRACE_SECONDS

    def run(self, work: Callable[[], Any]) -> None:
        """On the worker thread: runs `work` unless the call was abandoned before it started."""
        with self._lock:
            if self.abandoned:
                return
            self.thread = threading.current_thread()
        _local.call = self
        try:
            value = work()
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            self._finish(None, error)
        else:
            self._finish(value, None)
        finally:
            _local.call = None

    @property
    def result(self) -> Future[Any]:
        """The answer as a future, for a caller that blocks on it (an event delivery)."""
        with self._lock:
            future = self._future
            if future is None:
                future = self._future = Future()
                outcome = self._outcome
            else:
                outcome = None
        if outcome is not None:  # answered before anyone asked
            _set_future(future, *outcome)
        return future

    def on_outcome(self, receiver: Callable[[Any, BaseException | None], None]) -> None:
        """`receiver(value, error)` gets the answer once, on the thread that gives it, or at once
        if it was given already. One receiver per call."""
        with self._lock:
            outcome = self._outcome
            if outcome is None:
                self._receiver = receiver
                return
        receiver(*outcome)

    def _answer(self, value: Any, error: BaseException | None) -> None:
        with self._lock:
            if self._outcome is not None:
                return  # answered already
            self._outcome = (value, error)
            receiver, future = self._receiver, self._future
            self._receiver = None
        if receiver is not None:
            receiver(value, error)
        if future is not None:
            _set_future(future, value, error)

    def _finish(self, value: Any, error: BaseException | None) -> None:
        with self._lock:
            self.finished = True
            leftover, self._held = self._held, []
            abandoned = self.abandoned
            watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.forget(self)
        for lease in leftover:  # normally none: the work gives its leases back itself
            lease.on_return() if abandoned else lease.on_release()
        if not abandoned:
            self._answer(value, error)

    def abandon(self) -> list[Lease] | None:
        """From the watchdog: gives every lease back now; None if the call ended meanwhile.
        The caller is answered by `answer_abandoned`, once the abandonment is accounted for."""
        with self._lock:
            if self.finished or self.abandoned:
                return None
            self.abandoned = True
            taken = list(self._held)
        for lease in taken:
            try:
                lease.on_abandon()
            except Exception:
                log.exception("giving back a lease of an abandoned call of %s failed", self.module)
        return taken

    def answer_abandoned(self) -> None:
        try:
            answer = self.abandoned_answer(self)
        except Exception as error:  # noqa: BLE001 - the caller still gets an answer
            self._answer(None, error)
        else:
            self._answer(answer, None)

    def innermost(self) -> Lease | None:
        """The guest call deepest in this one (a service call's target), judged at abandonment."""
        with self._lock:
            timed = [lease for lease in self._held if lease.timing is not None]
        return timed[-1] if timed else None

    def _hold(self, lease: Lease) -> None:
        lease.call = self
        with self._lock:
            self._held.append(lease)
            if not self.abandoned:
                return
        # Taken after the abandonment (an instance that finished starting): given back at once.
        lease.on_abandon()

    def _give_back(self, lease: Lease) -> None:
        with self._lock:
            if lease not in self._held:
                return  # given back already
            self._held.remove(lease)
            abandoned = self.abandoned
        if abandoned:
            lease.on_return()
        else:
            lease.on_release()


def _set_future(future: Future[Any], value: Any, error: BaseException | None) -> None:
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class LoopAnswer:
    """A guarded call's answer, awaited on this event loop: one loop future, woken once from the
    thread that answers. `wait_for(shield(wrap_future(...)))` did the same with a task, two
    chained futures and their callbacks on every call. Register `settle` with the call's
    `on_outcome` before the call is submitted, so that its worker finds it there."""

    __slots__ = ("_loop", "_waiter")

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[Any] = self._loop.create_future()

    def settle(self, value: Any, error: BaseException | None) -> None:
        """On the thread that answered: hands the answer to the loop."""
        try:
            self._loop.call_soon_threadsafe(_copy_answer, self._waiter, value, error)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    async def within(self, seconds: float) -> Any:
        """The answer; TimeoutError after `seconds` (the call runs on, and its answer is dropped)."""
        timer = self._loop.call_later(seconds, _expire, self._waiter)
        try:
            return await self._waiter
        finally:
            timer.cancel()


async def answer_within(call: GuardedCall, seconds: float) -> Any:
    """`call`'s answer on this event loop within `seconds` (a call submitted already)."""
    answer = LoopAnswer()
    call.on_outcome(answer.settle)
    return await answer.within(seconds)


def _copy_answer(waiter: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if waiter.done():  # expired, or its caller went away
        return
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(value)


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class CallWatchdog:
    """One thread that abandons guarded calls still running past their deadline plus the grace."""

    def __init__(self, on_overdue: Callable[[GuardedCall], None]) -> None:
        self.on_overdue = on_overdue
        # (abandon at, watch number): plain numbers, which the cyclic collector ignores. The calls
        # themselves are in `_watched` by watch number and leave it when they finish, so a finished
        # call (its request, body and closures) is freed at once rather than held until its
        # deadline: held, every call of the last seconds outlived the young generations and made
        # each collection of the older ones walk them (~7% of a module call's CPU under load).
        self._heap: list[tuple[float, int]] = []
        self._watched: dict[int, GuardedCall] = {}
        self._number: dict[int, int] = {}  # id(call) -> its current watch number
        self._order = itertools.count()
        # `watch` and `forget` run on every call: they take the plain lock (entered in C), and only
        # the watchdog's own thread waits on the condition built on it.
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="trafi-call-watchdog", daemon=True)
        self._thread.start()

    def watch(self, call: GuardedCall) -> None:
        """Watch `call` until it finishes; call again after moving its deadline."""
        number = next(self._order)
        entry = (call.abandon_at, number)
        with self._lock:
            with call._lock:
                if call.finished:
                    return
                call._watchdog = self
            earlier = self._number.pop(id(call), None)
            if earlier is not None:
                self._watched.pop(earlier, None)  # its old deadline's entry is skipped
            self._watched[number] = call
            self._number[id(call)] = number
            heapq.heappush(self._heap, entry)
            # Woken only when this is now the earliest: otherwise it wakes in time anyway (a
            # wake-up per call would cost every call a thread switch).
            if self._heap[0] is entry:
                self._wake.notify()

    def forget(self, call: GuardedCall) -> None:
        """`call` finished: nothing left to watch (its heap entry is skipped when it comes up)."""
        with self._lock:
            number = self._number.pop(id(call), None)
            if number is not None:
                self._watched.pop(number, None)

    @property
    def watching(self) -> int:
        """Calls watched now (finished ones are not)."""
        with self._lock:
            return len(self._watched)

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(timeout=1)

    def _run(self) -> None:
        while (overdue := self._next_overdue()) is not None:
            # On a thread of its own: abandoning writes an incident (a database) and answers a
            # waiting caller, whose callbacks may write too; the next overdue call must not wait.
            threading.Thread(
                target=self._hand_over, args=(overdue,), name="trafi-call-abandon", daemon=True
            ).start()
            del overdue

    def _next_overdue(self) -> GuardedCall | None:
        """Blocks until a watched call is overdue (it leaves the watch) or the watchdog stops."""
        with self._wake:
            while not self._stopped:
                wait = None
                if self._heap:
                    at, number = self._heap[0]
                    call = self._watched.get(number)
                    if call is None or call.finished or call.abandoned:
                        heapq.heappop(self._heap)  # done, or watched again under a later deadline
                        if call is not None:
                            self._forget_locked(number, call)
                        continue
                    wait = at - time.monotonic()
                    if wait <= 0:
                        heapq.heappop(self._heap)
                        self._forget_locked(number, call)
                        return call
                    # Waiting, this thread holds no call: one that finishes meanwhile is freed at once.
                    del call
                self._wake.wait(wait)
        return None

    def _forget_locked(self, number: int, call: GuardedCall) -> None:
        del self._watched[number]
        if self._number.get(id(call)) == number:
            del self._number[id(call)]

    def _hand_over(self, call: GuardedCall) -> None:
        try:
            self.on_overdue(call)
        except Exception:
            log.exception("abandoning an overdue call of %s failed", call.module)
