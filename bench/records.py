"""The bench's input: distinct scam numbers, and the bulk `AlertRecord`s the gateway makes of them.

Every phase takes its numbers from one `scam_numbers` draw, so no number is reported twice in a
run: each record opens a fresh case, and every phase measures the same path (dedupe miss,
enrich, new case, route to both other agencies).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from cli.demo.numbers import scam_numbers
from cli.importer import scam_alert
from hotline.alert_in import alert_id_for
from hotline.codec import dumps
from hotline.settings import Settings

SENDER = "vn-hanoi"  # its scam numbers go to cn-beijing and ru-moscow
COUNTRY = "VN"
RECIPIENT = "cn-beijing"  # the delivery topic every throughput phase counts on
_CHUNK = 20_000

KV = tuple[bytes, bytes]


class Numbers:
    """Hands out distinct numbers phase after phase from a single seeded draw."""

    def __init__(self, seed: int, total: int) -> None:
        self.seed = seed
        self.used = 0
        self._it: Iterator[str] = scam_numbers(random.Random(seed), total, COUNTRY)

    def take(self, n: int) -> list[str]:
        out = list(islice(self._it, n))
        if len(out) != n:
            raise RuntimeError(f"asked for {n} numbers, the draw had {len(out)} left")
        self.used += n
        return out

    def reserve(self, n: int) -> int:
        """Skips `n` numbers that a subprocess draws itself (bench/importer.py re-runs the same
        seeded draw: the sequence depends only on the seed); returns where they start."""
        start = self.used
        self.take(n)
        return start


def _build(args: tuple[str, int, Sequence[str]]) -> list[KV]:
    # Exactly what POST /v1/alerts/batch does per item (gateway/intake_pool.py -> intake.accept):
    # the importer's body, validated, enriched once, serialized with the project's codec.
    from gateway import intake  # noqa: PLC0415 - imported in the pool worker, not at startup

    tag, start, numbers = args
    settings = Settings()
    now = datetime.now(UTC)
    out: list[KV] = []
    for i, number in enumerate(numbers, start):
        record = intake.accept(scam_alert(number, f"{tag}-{i}", {}), SENDER, settings, now, "bulk")
        out.append((record.alert_id.encode(), dumps(record)))
    return out


def bulk_records(numbers: Sequence[str], tag: str, procs: int = 2) -> list[KV]:
    """(key, value) of the `<prefix>.inbound.bulk` records for `numbers`, built in parallel."""
    jobs = [(tag, i, numbers[i : i + _CHUNK]) for i in range(0, len(numbers), _CHUNK)]
    if procs <= 1 or len(jobs) == 1:
        return [kv for job in jobs for kv in _build(job)]
    with ProcessPoolExecutor(max_workers=procs) as pool:
        return [kv for chunk in pool.map(_build, jobs) for kv in chunk]


def urgent_body(ref: str, number: str, recipient: str = RECIPIENT) -> dict[str, Any]:
    """An `immediate` scam-number alert for one named recipient: the urgent lane."""
    return {
        "source_ref": ref,
        "kind": "scam_number",
        "severity": "severe",
        "urgency": "immediate",
        "tlp": "amber",
        "recipients": [recipient],
        "title": f"Urgent: number {number} used in an ongoing impersonation scam",
        "subject": {"number": number, "scam_type": "impersonation"},
    }


def alert_key(source_ref: str, sender: str = SENDER) -> bytes:
    return alert_id_for(sender, source_ref).encode()
