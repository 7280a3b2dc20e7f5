"""The parts of the worker bound that need no guest: leases, the watchdog, replaceable threads.

The blocking "guest" here is a Python thread waiting on an event, released by
the test: what a guest blocked in a WASI call looks like to the host.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections import Counter

import pytest

from tests.polling import wait_for
from trafi_host.runtime.guarded_call import CallWatchdog, GuardedCall, Lease, answer_within, hold
from trafi_host.runtime.worker_threads import WorkerThreads


def counting_lease(counts: Counter[str]) -> Lease:
    return Lease(
        on_release=lambda: counts.update(["released"]),
        on_abandon=lambda: counts.update(["abandoned"]),
        on_return=lambda: counts.update(["returned"]),
    )


def guarded(deadline: float, answer: str = "abandoned") -> GuardedCall:
    return GuardedCall("m", "t", "test", deadline, lambda _call: answer)


def test_a_lease_of_a_call_that_ends_is_released_once_and_never_abandoned() -> None:
    counts: Counter[str] = Counter()
    call = guarded(time.monotonic() + 60)

    def work() -> str:
        hold(counting_lease(counts)).give_back()
        return "done"

    call.run(work)
    assert call.result.result(timeout=5) == "done"
    assert call.abandon() is None  # too late: it ended
    assert counts == Counter(released=1)


def test_a_lease_of_an_abandoned_call_is_given_back_at_once_and_cleaned_up_on_return() -> None:
    counts: Counter[str] = Counter()
    blocked, unblock = threading.Event(), threading.Event()
    call = guarded(time.monotonic() + 60)

    def work() -> str:
        lease = hold(counting_lease(counts))
        blocked.set()
        unblock.wait(30)
        lease.give_back()
        hold(counting_lease(counts)).give_back()  # taken after the abandonment: given back at once
        return "late"

    runner = threading.Thread(target=call.run, args=(work,))
    runner.start()
    assert blocked.wait(30)
    assert call.abandon() is not None
    call.answer_abandoned()
    assert counts == Counter(abandoned=1)
    assert call.result.result(timeout=5) == "abandoned"
    assert call.abandon() is None  # only once
    unblock.set()
    runner.join(30)
    assert counts == Counter(abandoned=2, returned=2)  # never `released`: its places went at once
    assert call.result.result() == "abandoned"  # the late answer reaches nobody


def test_the_watchdog_abandons_what_is_overdue_and_leaves_what_ended() -> None:
    overdue: list[GuardedCall] = []
    watchdog = CallWatchdog(overdue.append)
    try:
        ended = guarded(time.monotonic() - 10)
        ended.run(lambda: "quick")
        stuck = guarded(time.monotonic() - 10)
        later = guarded(time.monotonic() + 3600)
        for call in (ended, later, stuck):
            watchdog.watch(call)
        wait_for(lambda: overdue, timeout=30, message="the overdue call to be handed over")
        assert overdue == [stuck]
        # Moved deadline (an async handler starts its own time late): watched under the new one.
        later.deadline = time.monotonic() - 10
        watchdog.watch(later)
        wait_for(lambda: len(overdue) == 2, timeout=30, message="the moved call to be handed over")
        assert overdue == [stuck, later]
    finally:
        watchdog.stop()


class _Body:
    """A stand-in for a request's body: weakly referable, to see when it is freed."""


def test_a_call_that_finishes_leaves_the_watchdog_and_is_freed_before_its_deadline() -> None:
    """Held until its deadline, every call of the last seconds (its request, body, closures) would
    outlive the collector's young generations; a finished call is the watchdog's no more."""
    overdue: list[GuardedCall] = []
    watchdog = CallWatchdog(overdue.append)
    try:
        body = _Body()  # what a request of the call holds, freed with it
        call = GuardedCall("m", "t", "test", time.monotonic() + 3600, lambda _call, kept=body: kept)
        held = weakref.ref(body)
        del body
        watchdog.watch(call)
        watchdog.watch(call)  # watched again (a moved deadline): still one call watched
        assert watchdog.watching == 1
        call.run(lambda: "done")
        assert watchdog.watching == 0
        del call
        assert held() is None  # freed by reference counting: nothing kept it for the deadline
        # One that finished before it was watched is not watched at all.
        quick = guarded(time.monotonic() - 10)
        quick.run(lambda: "quick")
        watchdog.watch(quick)
        assert watchdog.watching == 0
        # The entries left in the heap are skipped: a stuck call behind them is still abandoned.
        stuck = guarded(time.monotonic() - 10)
        watchdog.watch(stuck)
        wait_for(lambda: overdue, timeout=30, message="the stuck call to be handed over")
        assert overdue == [stuck] and watchdog.watching == 0
    finally:
        watchdog.stop()


def test_abandoned_threads_are_replaced_up_to_the_cap_and_exit_when_they_return() -> None:
    threads = WorkerThreads(workers=2, max_abandoned=1, name="trafi-test-wasm")
    release = threading.Event()
    running: list[threading.Thread] = []
    lock = threading.Lock()

    def blocked() -> None:
        with lock:
            running.append(threading.current_thread())
        release.wait(30)

    try:
        for _ in range(2):
            threads.submit(blocked)
        wait_for(lambda: len(running) == 2, timeout=30, message="both workers to block")
        queued = threads.submit(lambda: "served")  # no free worker: it waits
        assert threads.abandon(running[0])  # replaced: the queued task runs on the new thread
        assert queued.result(timeout=30) == "served"
        assert not threads.abandon(running[1])  # over the cap: it keeps its place
        assert (threads.stats.abandoned, threads.stats.refused) == (1, 1)
        assert threads.alive == 3 and threads.stats.peak <= 2 + 1
        release.set()
        wait_for(lambda: threads.abandoned_now == 0, timeout=30, message="the abandoned thread to exit")
        assert threads.submit(lambda: "again").result(timeout=30) == "again"
        assert threads.alive == 2
    finally:
        release.set()
        threads.shutdown()


def test_the_thread_idle_last_takes_the_next_task() -> None:
    """Its stack and the instance it used are still in the caches: calls one after another stay on
    one thread instead of going round every thread in turn."""
    threads = WorkerThreads(workers=3, max_abandoned=1, name="trafi-test-wasm")
    gates = [threading.Event() for _ in range(3)]

    def held(gate: threading.Event) -> str:
        assert gate.wait(30)
        return threading.current_thread().name

    try:
        running = [threads.submit(lambda gate=gate: held(gate)) for gate in gates]  # three threads
        went_idle = []
        for count, (gate, future) in enumerate(zip(gates, running, strict=True), start=1):
            gate.set()
            went_idle.append(future.result(timeout=30))
            wait_for(lambda count=count: threads.idle_now == count, timeout=30, message="the thread to idle")
        assert len(set(went_idle)) == 3
        for _ in range(5):
            assert threads.submit(lambda: threading.current_thread().name).result(timeout=30) == went_idle[-1]
            wait_for(lambda: threads.idle_now == 3, timeout=30, message="the thread to idle again")
    finally:
        for gate in gates:
            gate.set()
        threads.shutdown()


def test_shutdown_ends_idle_threads_and_refuses_new_work() -> None:
    threads = WorkerThreads(workers=2, max_abandoned=1, name="trafi-test-wasm")
    assert threads.submit(lambda: "served").result(timeout=30) == "served"
    wait_for(lambda: threads.idle_now == 1, timeout=30, message="the thread to idle")
    threads.shutdown()
    wait_for(lambda: threads.alive == 0, timeout=30, message="the idle thread to exit")
    with pytest.raises(RuntimeError, match="shut down"):
        threads.run_soon(lambda: None)


def test_work_run_next_from_a_worker_runs_on_that_thread_after_its_task() -> None:
    threads = WorkerThreads(workers=4, max_abandoned=1, name="trafi-test-wasm")
    ran: list[tuple[str, threading.Thread]] = []
    done = threading.Event()

    def task() -> None:
        threads.run_next(lambda: ran.append(("next", threading.current_thread())))
        threads.run_next(lambda: (ran.append(("after", threading.current_thread())), done.set()))
        ran.append(("task", threading.current_thread()))  # the task ends before either starts

    def from_elsewhere() -> None:
        ran.append(("elsewhere", threading.current_thread()))

    try:
        threads.run_soon(task)
        assert done.wait(30)
        assert [name for name, _ in ran] == ["task", "next", "after"]
        assert len({thread for _, thread in ran}) == 1 and threads.stats.followed == 2
        threads.run_next(from_elsewhere)  # not a worker thread: queued as `run_soon` would
        wait_for(lambda: len(ran) == 4, timeout=30, message="the work queued from outside")
        assert ran[3][1].name.startswith("trafi-test-wasm") and threads.stats.followed == 2
    finally:
        threads.shutdown()


def test_work_run_next_queues_behind_work_already_waiting_for_a_thread() -> None:
    """A thread that follows one module's calls from one to the next must not starve the others:
    with a task already waiting for a thread, the next call queues behind it."""
    threads = WorkerThreads(workers=1, max_abandoned=1, name="trafi-test-wasm")
    order: list[str] = []
    queued = threading.Event()
    done = threading.Event()

    def task() -> None:
        assert queued.wait(30)
        threads.run_next(lambda: (order.append("next"), done.set()))
        order.append("task")

    try:
        threads.run_soon(task)
        threads.run_soon(lambda: order.append("other module"))  # the only thread is busy: it waits
        queued.set()
        assert done.wait(30)
        assert order == ["task", "other module", "next"] and threads.stats.followed == 0
    finally:
        threads.shutdown()


def test_the_answer_is_awaited_on_the_loop_from_the_thread_that_gives_it() -> None:
    async def scenario() -> tuple[object, str]:
        call = guarded(time.monotonic() + 60)
        worker = threading.Thread(target=call.run, args=(lambda: "from the worker",))
        waiting = asyncio.ensure_future(answer_within(call, 60))
        worker.start()
        answer = await waiting
        worker.join()
        failing = guarded(time.monotonic() + 60)
        failing.run(lambda: 1 / 0)  # answered before anyone waits
        try:
            await answer_within(failing, 60)
        except ZeroDivisionError as error:
            return answer, type(error).__name__
        return answer, "no error"

    assert asyncio.run(scenario()) == ("from the worker", "ZeroDivisionError")


def test_a_late_answer_after_the_wait_expired_or_was_cancelled_is_dropped_quietly() -> None:
    """The caller answers at its deadline; the worker's answer, coming later, reaches no one and
    raises nothing on the loop (an `InvalidStateError` there would be logged per late call)."""
    loop_errors: list[dict[str, object]] = []

    async def scenario() -> list[str]:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: loop_errors.append(context))
        release = threading.Event()
        outcomes = []
        for ending in ("expired", "cancelled"):
            call = guarded(time.monotonic() + 60)
            worker = threading.Thread(target=call.run, args=(lambda: release.wait(30) and "late",))
            worker.start()
            waiting = asyncio.ensure_future(answer_within(call, 0.05 if ending == "expired" else 60))
            if ending == "cancelled":
                await asyncio.sleep(0)  # let it start waiting
                waiting.cancel()
            try:
                await waiting
            except TimeoutError:
                outcomes.append("expired")
            except asyncio.CancelledError:
                outcomes.append("cancelled")
            release.set()
            worker.join()
            assert call.result.result(timeout=5) == "late"
            # The worker scheduled the late answer before `join` returned: it runs at the next turn.
            await asyncio.sleep(0)
        return outcomes

    assert asyncio.run(scenario()) == ["expired", "cancelled"]
    assert loop_errors == []
