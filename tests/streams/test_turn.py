from __future__ import annotations

import asyncio

from streams.turn import Turn


async def test_urgent_steps_overtake_waiting_bulk_steps() -> None:
    turn = Turn()
    order: list[str] = []

    async def step(name: str, urgent: bool) -> None:
        async with turn.urgent() if urgent else turn.bulk():
            order.append(name)
            await asyncio.sleep(0.01)

    running = asyncio.create_task(step("bulk-1", urgent=False))
    await asyncio.sleep(0)  # bulk-1 holds the turn
    waiting = [asyncio.create_task(step("bulk-2", urgent=False))]
    await asyncio.sleep(0)
    waiting += [asyncio.create_task(step(f"urgent-{i}", urgent=True)) for i in (1, 2)]
    await asyncio.gather(running, *waiting)
    assert order == ["bulk-1", "urgent-1", "urgent-2", "bulk-2"]


async def test_a_cancelled_urgent_waiter_does_not_block_bulk_forever() -> None:
    turn = Turn()
    async with turn.bulk():
        waiter = asyncio.create_task(turn.urgent().__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
    async with asyncio.timeout(1):
        async with turn.bulk():
            assert turn.locked()
    assert not turn.locked()


async def test_back_to_back_bulk_steps_let_an_urgent_step_in() -> None:
    # Bulk steps that never suspend inside (a chunk of matching): a free lock is taken
    # without yielding, so without a yield per step the urgent task never even started.
    turn = Turn()
    order: list[str] = []

    async def bulk_run() -> None:
        for i in range(20):
            async with turn.bulk():
                order.append(f"bulk-{i}")

    async def urgent() -> None:
        async with turn.urgent():
            order.append("urgent")

    running = asyncio.create_task(bulk_run())
    await asyncio.sleep(0)  # the bulk run has started
    arriving = asyncio.create_task(urgent())
    await asyncio.gather(running, arriving)
    assert order.index("urgent") <= 2, order
