"""The per-module worker cap: over-cap callers wait FIFO, and give up at their deadline."""

from __future__ import annotations

import asyncio
import threading
import time

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
    assert bulkhead.busy("m") == 0


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
