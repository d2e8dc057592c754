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


async def test_bulk_holds_back_while_an_urgent_record_is_on_its_way() -> None:
    # The record is in Kafka but not yet at its agent: a bulk step started now would make it
    # wait for that step once it asks.
    pending: list[tuple[str, int, int]] = [("hotline.inbound", 0, 7)]
    turn = Turn(urgent_pending=lambda: pending[0] if pending else None, patience=5.0)
    order: list[str] = []

    async def bulk() -> None:
        async with turn.bulk():
            order.append("bulk")

    async def urgent_arrives() -> None:
        await asyncio.sleep(0.02)  # the conductor, the agent's queue
        async with turn.urgent():
            order.append("urgent")
            pending.clear()  # handled

    await asyncio.gather(bulk(), urgent_arrives())
    assert order == ["urgent", "bulk"]


async def test_bulk_waits_out_records_that_never_arrive_once() -> None:
    # Records the urgent agents never get (the watchdog's business) hold bulk back for the
    # patience once, not every step: the bulk lane must go on.
    stuck = ("hotline.inbound", 0, 7)
    turn = Turn(urgent_pending=lambda: stuck, patience=0.05)
    loop = asyncio.get_running_loop()

    started = loop.time()
    async with turn.bulk():
        pass
    first = loop.time() - started
    started = loop.time()
    for _ in range(20):
        async with turn.bulk():
            pass
    rest = loop.time() - started

    assert first >= 0.05
    assert rest < 0.05 * 20 / 2, "each step waited again for the same records"
