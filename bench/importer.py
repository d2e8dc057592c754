"""A `hotline import` run as its own process: sequential NDJSON batches to /v1/alerts/batch.

Same bodies (`cli.importer.scam_alert`), same wire format (NDJSON, one full alert a line,
as `hotline import` sends for an NDJSON file) and same client behaviour (one synchronous
httpx client, one batch at a time, each answered before the next, a 429 or 503 for the whole
request waited out per Retry-After and resent) as the real importer; the
numbers are drawn here instead of read from a file, so a million-number import needs no
300 MB file. Draws are the bench's own seeded sequence, skipping the numbers earlier phases
used, so every alert is a fresh case.

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
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_when_event_set,
)

from cli.demo.numbers import scam_numbers
from cli.importer import MAX_ATTEMPTS, MAX_WAIT_S, scam_alert
from hotline.retry import RetryLater, backoff, raise_for_retry_later, wait_retry_after

_stop = threading.Event()


def _on_term(signum: int, frame: FrameType | None) -> None:
    _stop.set()


def refs(tag: str, count: int) -> list[str]:
    """The source_refs an import of `count` numbers under `tag` uses (for the parent's keys)."""
    return [f"{tag}-{i}" for i in range(count)]


def run(url: str, key: str, seed: int, skip: int, count: int, tag: str, batch: int) -> None:
    signal.signal(signal.SIGTERM, _on_term)
    numbers = islice(scam_numbers(random.Random(seed), skip + count, "VN"), skip, None)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    accepted = rejected = sent = 0
    item_statuses: dict[str, int] = {}
    waits: dict[str, int] = {}  # whole-request 429 / 503 answers that were waited out
    waited = 0.0
    first: float | None = None
    with httpx.Client(base_url=url, timeout=120.0) as client:
        while sent < count and not _stop.is_set():
            chunk = [
                scam_alert(n, f"{tag}-{i}", {})
                for i, n in enumerate(islice(numbers, min(batch, count - sent)), sent)
            ]
            body = b"\n".join(orjson.dumps(a) for a in chunk)
            t0 = time.monotonic()
            first = t0 if first is None else first

            # As `hotline import` does: 429 / 503 for the whole request means "wait, resend"
            # (the same wait policy); the bench counts the waits, and SIGTERM ends them.
            def send(body: bytes = body) -> httpx.Response:
                # One list for the whole import, as `hotline import` names a file's batches:
                # the recipient sees one digest (bench/kafka_io.Counter counts it).
                return raise_for_retry_later(
                    client.post(
                        "/v1/alerts/batch",
                        content=body,
                        headers=headers,
                        params={"import_id": tag},
                    )
                )

            def pause(seconds: float) -> None:
                nonlocal waited
                waited += seconds
                time.sleep(seconds)

            def tally(state: RetryCallState) -> None:
                exc = state.outcome.exception() if state.outcome is not None else None
                if isinstance(exc, RetryLater):
                    waits[str(exc.status_code)] = waits.get(str(exc.status_code), 0) + 1

            retrying = Retrying(
                retry=retry_if_exception_type(RetryLater),
                wait=wait_retry_after(backoff(0.5, MAX_WAIT_S)),
                stop=stop_after_attempt(MAX_ATTEMPTS) | stop_when_event_set(_stop),
                sleep=pause,
                before_sleep=tally,
                reraise=True,
            )
            try:
                r = retrying(send)
            except RetryLater as exc:
                r = exc.response
            t1 = time.monotonic()
            doc = r.json() if r.status_code == 200 else {}
            for item in doc.get("items", []):
                code = str(item.get("status"))
                item_statuses[code] = item_statuses.get(code, 0) + 1
            accepted += doc.get("accepted", 0)
            rejected += doc.get("rejected", len(chunk) if r.status_code != 200 else 0)
            sent += len(chunk)
            line = {"sent_at": t0, "answered_at": t1, "items": len(chunk), "status": r.status_code}
            print(orjson.dumps(line).decode(), flush=True)
    summary = {
        "summary": True,
        "sent": sent,
        "accepted": accepted,
        "rejected": rejected,
        "first_sent_at": first,
        "last_answered_at": time.monotonic(),
        "stopped_early": _stop.is_set(),
        "item_statuses": item_statuses,
        "retried_requests": waits,
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
