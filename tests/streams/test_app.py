"""The worker's Faust app as built, before it runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hotline.settings import Settings
from streams.app import create_app
from streams.case_tables import CaseTables


def test_a_match_requests_table_writes_do_not_hold_up_the_next_record(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    buffer = app.producer.buffer
    # What one bulk match request leaves queued: each of its alerts writes a few entries of
    # every case-index table, flushed together at the end of the request.
    writes = 100 * len(CaseTables.__dataclass_fields__) * 3
    for _ in range(writes):
        buffer.pending.put_nowait(object())

    # Faust's conductor awaits this before delivering any record, an urgent alert's too. Over
    # the limit it waits for the producer to send; on a producer not running it raises.
    asyncio.run(buffer.wait_until_ebb())
