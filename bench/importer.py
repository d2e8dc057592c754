"""A `hotline import` run as its own process: sequential NDJSON batches to /v1/alerts/batch.

The real importer's bodies (`scam_alert`), wire format and client (`post_batch`: one batch at
a time, a 429 or 503 for the whole request waited out per Retry-After and resent); only the
numbers are drawn here, from the bench's seeded sequence past what earlier phases used, instead
of read from a file (a million-number import needs no 300 MB file).

Prints one JSON line per batch (`time.monotonic()` stamps, comparable across processes on
one machine) and a summary line; stops early on SIGTERM.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import threading
import time
from itertools import islice
from types import FrameType

import httpx
import orjson

from cli.demo.numbers import scam_numbers
from cli.exits import CommandError
from cli.importer import MAX_ATTEMPTS, post_batch, retrying, scam_alert

_stop = threading.Event()


class _Stopped(Exception):
    """SIGTERM arrived during a wait for Retry-After: the import ends there."""


def _on_term(signum: int, frame: FrameType | None) -> None:
    _stop.set()


def run(url: str, key: str, seed: int, skip: int, count: int, tag: str, batch: int) -> None:
    signal.signal(signal.SIGTERM, _on_term)
    numbers = islice(scam_numbers(random.Random(seed), skip + count, "VN"), skip, None)
    accepted = rejected = sent = 0
    item_statuses: dict[str, int] = {}
    waited = 0.0
    first: float | None = None
    error = None

    # As `hotline import` waits out a 429 / 503 for the whole request (the same policy and
    # code); the bench adds up the waits, and SIGTERM ends them.
    def pause(seconds: float) -> None:
        nonlocal waited
        if _stop.wait(seconds):
            raise _Stopped
        waited += seconds

    retry = retrying(MAX_ATTEMPTS, pause, lambda _: None)
    with httpx.Client(base_url=url, timeout=120.0) as client:
        while sent < count and not _stop.is_set():
            chunk = [
                scam_alert(n, f"{tag}-{i}", {})
                for i, n in enumerate(islice(numbers, min(batch, count - sent)), sent)
            ]
            t0 = time.monotonic()
            first = t0 if first is None else first
            try:
                # One list for the whole import, as `hotline import` names a file's batches:
                # the recipient sees one digest (bench/kafka_io.Counter counts it).
                doc = post_batch(client, key, chunk, retry, import_id=tag)
            except _Stopped:
                break
            except CommandError as exc:
                error = str(exc)
                break
            for item in doc["items"]:
                code = str(item.get("status"))
                item_statuses[code] = item_statuses.get(code, 0) + 1
            accepted += doc["accepted"]
            rejected += doc["rejected"]
            sent += len(chunk)
            line = {
                "sent_at": t0,
                "answered_at": time.monotonic(),
                "items": len(chunk),
                "status": 200,
            }
            print(orjson.dumps(line).decode(), flush=True)
    summary = {
        "summary": True,
        "sent": sent,
        "accepted": accepted,
        "rejected": rejected,
        "first_sent_at": first,
        "last_answered_at": time.monotonic(),
        "stopped_early": _stop.is_set(),
        "error": error,
        "item_statuses": item_statuses,
        "seconds_waited_on_retry_after": round(waited, 1),
    }
    print(orjson.dumps(summary).decode(), flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.importer")
    p.add_argument("--url", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--skip", type=int, default=0)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--tag", required=True)
    p.add_argument("--batch", type=int, default=5000)
    a = p.parse_args(argv)
    run(a.url, a.key, a.seed, a.skip, a.count, a.tag, a.batch)


if __name__ == "__main__":
    main()
    sys.exit(0)
