"""Worker shares per module and per (tenant, module): over-share callers wait FIFO (coroutines and
threads alike), a freed slot goes to the first waiter that fits, and waiters give up at their deadline."""

from __future__ import annotations

import asyncio
import threading
import time

from tests.polling import wait_for
from trafi_host.runtime.bulkhead import WorkerBulkhead


def test_slots_are_handed_to_waiters_in_order() -> None:
    bulkhead = WorkerBulkhead(workers=2, share=0.5)  # one slot per module
    order: list[int] = []

    async def scenario() -> None:
        assert await bulkhead.enter("m", time.monotonic() + 1)

        async def waiter(index: int) -> None:
            assert await bulkhead.enter("m", time.monotonic() + 2)
            order.append(index)
            threading.Thread(target=bulkhead.leave, args=("m",)).start()

        tasks = [asyncio.create_task(waiter(i)) for i in range(3)]
        await asyncio.sleep(0.05)
        assert bulkhead.busy("m") == 1
        threading.Thread(target=bulkhead.leave, args=("m",)).start()  # as a worker thread would
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    assert order == [0, 1, 2]
    # The last waiter's slot is given back by a thread of its own: wait for it, not race it.
    wait_for(lambda: bulkhead.busy("m") == 0, message="the last slot to be given back")


def test_a_waiter_gives_up_at_its_deadline_and_other_modules_are_unaffected() -> None:
    bulkhead = WorkerBulkhead(workers=2, share=0.5)

    async def scenario() -> tuple[bool, bool, float]:
        assert await bulkhead.enter("slow", time.monotonic() + 1)
        started = time.monotonic()
        waited = await bulkhead.enter("slow", time.monotonic() + 0.1)
        elapsed = time.monotonic() - started
        other = await bulkhead.enter("fast", time.monotonic() + 0.1)
        return waited, other, elapsed

    waited, other, elapsed = asyncio.run(scenario())
    assert waited is False
    assert other is True
    assert elapsed >= 0.09
    assert bulkhead.rejected == 1
    bulkhead.leave("slow")
    assert bulkhead.busy("slow") == 0


def test_one_tenant_cannot_take_all_of_a_modules_slots() -> None:
    bulkhead = WorkerBulkhead(workers=8)  # 4 slots per module, 2 per tenant of it
    assert (bulkhead.per_module, bulkhead.per_tenant) == (4, 2)

    async def scenario() -> tuple[bool, bool, bool]:
        assert await bulkhead.enter("m", time.monotonic() + 1, "acme")
        assert await bulkhead.enter("m", time.monotonic() + 1, "acme")
        third = await bulkhead.enter("m", time.monotonic() + 0.05, "acme")  # over acme's share
        other = await bulkhead.enter("m", time.monotonic() + 0.05, "globex")
        elsewhere = await bulkhead.enter("n", time.monotonic() + 0.05, "acme")
        return third, other, elsewhere

    third, other, elsewhere = asyncio.run(scenario())
    assert (third, other, elsewhere) == (False, True, True)


def test_a_freed_slot_goes_to_the_first_waiter_whose_tenant_is_under_its_share() -> None:
    bulkhead = WorkerBulkhead(workers=4)  # 2 per module, 1 per tenant
    got: list[str] = []

    async def scenario() -> None:
        assert await bulkhead.enter("m", time.monotonic() + 1, "acme")
        assert await bulkhead.enter("m", time.monotonic() + 1, "globex")

        async def wait_for_slot(tenant: str) -> None:
            if await bulkhead.enter("m", time.monotonic() + 2, tenant):
                got.append(tenant)

        acme = asyncio.create_task(wait_for_slot("acme"))  # first in line, but acme holds its share
        await asyncio.sleep(0.01)
        initech = asyncio.create_task(wait_for_slot("initech"))
        await asyncio.sleep(0.01)
        threading.Thread(target=bulkhead.leave, args=("m", "globex")).start()
        await initech
        assert got == ["initech"]
        threading.Thread(target=bulkhead.leave, args=("m", "acme")).start()
        await acme

    asyncio.run(scenario())
    assert got == ["initech", "acme"]


def test_a_thread_waits_for_a_slot_like_a_coroutine() -> None:
    bulkhead = WorkerBulkhead(workers=2)  # 1 slot per module
    assert bulkhead.try_enter("m", "acme")
    answers: list[bool] = []
    waiting = threading.Thread(
        target=lambda: answers.append(bulkhead.enter_blocking("m", time.monotonic() + 30, "globex"))
    )
    waiting.start()
    wait_for(lambda: len(bulkhead._waiters.get("m", ())) == 1, message="the thread to queue")
    bulkhead.leave("m", "acme")
    waiting.join()
    assert answers == [True] and bulkhead.busy("m") == 1
    assert bulkhead.enter_blocking("m", time.monotonic() + 0.05, "acme") is False


def test_a_queued_start_runs_on_the_thread_that_frees_the_slot_outside_the_lock() -> None:
    bulkhead = WorkerBulkhead(workers=2)  # 1 slot per module
    assert bulkhead.enter_or_queue("m", "acme", lambda: None) is None  # the slot, taken now
    started: list[tuple[str, int]] = []

    def start(name: str) -> None:
        # Outside the lock: a start that looks at the bulkhead (or leaves) does not deadlock.
        started.append((threading.current_thread().name, bulkhead.busy("m")))

    first = bulkhead.enter_or_queue("m", "acme", lambda: start("first"))
    second = bulkhead.enter_or_queue("m", "acme", lambda: start("second"))
    assert first is not None and second is not None and started == []
    freeing = threading.Thread(target=bulkhead.leave, args=("m", "acme"), name="freeing")
    freeing.start()
    freeing.join()
    assert started == [("freeing", 1)]  # FIFO, one at a time, its slot taken for it
    assert bulkhead.withdraw("m", first) is False  # started: too late to give it up
    assert bulkhead.withdraw("m", second) is True and bulkhead.rejected == 1
    bulkhead.leave("m", "acme")
    assert started == [("freeing", 1)] and bulkhead.busy("m") == 0


def test_a_failing_start_does_not_keep_the_next_waiters_from_their_slots() -> None:
    bulkhead = WorkerBulkhead(workers=4)  # 2 per module, 1 per tenant
    assert bulkhead.try_enter("m", "acme") and bulkhead.try_enter("m", "globex")
    started: list[str] = []

    def broken() -> None:
        raise RuntimeError("shut down")

    assert bulkhead.enter_or_queue("m", "initech", broken) is not None
    assert bulkhead.enter_or_queue("m", "umbrella", lambda: started.append("umbrella")) is not None
    bulkhead.leave("m", "acme")
    bulkhead.leave("m", "globex")  # both slots free up: both queued starts run, one failing
    assert started == ["umbrella"] and bulkhead.busy("m") == 2
