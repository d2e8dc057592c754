"""`python -m bench [--quick] [--numbers N] [--consoles C]`

One broker, a worker per lane, one gateway, started here and stopped here. The phases run in this
order, the stream next to the baseline it is compared with:

 1. stream throughput   passthrough baseline, hotline worker, passthrough again: same N records
 2. worker memory       VmRSS before and after the N cases are in its tables
 3. urgent latency      idle: one `immediate` alert at a time, POST -> officer's socket
 4. lookups             idle: numbers the stream run registered, and unknown ones
 5. fan-out             C consoles, one alert, time until all have it
 6. restart             SIGKILL the worker holding every case so far, start it again, post one
                        urgent alert at once: seconds until it is on the officer's socket
 7. during an import    urgent probes and lookups side by side while a list is imported through
                        the gateway (last: its backlog is never drained); the list's console
                        messages counted

Raw results go to bench/results/<mode>.json (replacing the mode's last run); docs/benchmarks.md
is rebuilt from them.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import fanout, lookup, phases, report, targets, throughput
from bench.machine import facts, load_average
from bench.records import Numbers, bulk_records
from bench.stack import Stack, rss_bytes

MiB = 1024 * 1024


def _params(a: argparse.Namespace) -> dict[str, Any]:
    quick = a.quick
    n = a.numbers or (10_000 if quick else 100_000)
    return {
        "mode": "quick" if quick else ("full" if n >= 1_000_000 else "default"),
        "numbers": n,
        "consoles": a.consoles or (200 if quick else 1000),
        "probes": a.probes or (50 if quick else 200),
        "bulk_batch": a.batch,
        "fanout_rounds": 3 if quick else 5,
        # The import that runs while urgent alerts and lookups are timed, and the longest that
        # may take. A big list, as partners send (it never finishes within the window):
        # posting goes on while the bulk backlog grows, which is what an urgent alert must beat.
        "bulk_numbers": a.bulk_numbers or (200_000 if quick else 1_000_000),
        "bulk_window_s": 60.0 if quick else 300.0,
        # Lookups per phase (idle, during the import), of numbers the stream run registered.
        "lookups": 100 if quick else 400,
        "seed": a.seed,
        "worker_env": dict(kv.split("=", 1) for kv in a.worker_env),
    }


class Run:
    """Results being collected; a phase that fails is recorded and the run goes on."""

    def __init__(self, params: dict[str, Any], argv: list[str]) -> None:
        self.doc: dict[str, Any] = {
            "schema": 2,
            "mode": params["mode"],
            "command": " ".join(["python -m bench", *argv]),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "params": params,
            "machine": facts(),
            "phases": {},
            "errors": {},
        }
        self.t0 = time.monotonic()

    async def phase(self, name: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        print(f"[bench {time.monotonic() - self.t0:7.1f}s] {name} …", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            value = await fn()
        except Exception as exc:  # noqa: BLE001 - one failed phase must not lose the others
            self.doc["errors"][name] = "".join(traceback.format_exception_only(exc)).strip()
            traceback.print_exc()
            return None
        self.doc["phases"][name] = {
            "seconds": round(time.monotonic() - started, 1),
            "load_avg_after": load_average(),
        }
        return value


async def bench(a: argparse.Namespace, argv: list[str]) -> Path:
    p = _params(a)
    run = Run(p, argv)
    doc = run.doc
    run_id = secrets.token_hex(3)
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    stack = Stack(workdir, prefix=f"bench{run_id}", worker_env=p["worker_env"])

    # Inputs first, while nothing else runs: building records is CPU-heavy (pydantic, phones).
    total = p["numbers"] + p["probes"] * 2 + p["lookups"] // 4 + p["fanout_rounds"] + 1
    numbers = Numbers(p["seed"], total + p["bulk_numbers"])
    t = time.monotonic()
    stream_numbers = numbers.take(p["numbers"])
    records = bulk_records(stream_numbers, f"BENCH-{run_id}")
    doc["inputs"] = {
        "build_seconds": round(time.monotonic() - t, 1),
        "avg_record_bytes": round(sum(len(v) for _, v in records) / len(records), 1),
    }
    ok = True
    try:
        # Started from this (the main) thread, never from a pool thread: children die with the
        # thread that spawned them (PR_SET_PDEATHSIG), so blocking the loop here is deliberate.
        stack.start_broker()
        doc["worker_start_s"] = round(stack.start_worker(), 1)
        assert stack.worker is not None
        await asyncio.sleep(2)  # let start-up settle before the idle reading
        memory: dict[str, Any] = {"worker_idle_rss_mib": _rss(stack.worker)}
        doc["memory"] = memory

        stream: dict[str, Any] = {"baseline": []}
        doc["stream"] = stream
        b1 = await run.phase(
            "baseline_1", lambda: throughput.baseline_run(stack, records, "passthrough-1")
        )
        stream["hotline"] = await run.phase(
            "stream", lambda: throughput.stream_run(stack, records, "hotline")
        )
        stack.check_alive()
        memory["cases"] = p["numbers"]
        memory["worker_rss_mib"] = _rss(stack.worker)
        b2 = await run.phase(
            "baseline_2", lambda: throughput.baseline_run(stack, records, "passthrough-2")
        )
        stream["baseline"] = [b for b in (b1, b2) if b is not None]

        start_s = stack.start_gateway()
        assert stack.gateway is not None
        await asyncio.sleep(2)
        doc["gateway"] = {
            "start_s_with_states": round(start_s, 1),
            "rss_mib_at_start": _rss(stack.gateway),
        }

        lat: dict[str, Any] = {}
        doc["latency"] = lat
        idle_numbers = numbers.take(p["probes"])
        lat["idle"] = await run.phase(
            "latency_idle", lambda: phases.probes(stack, idle_numbers, "URG-IDLE")
        )
        # Lookups of numbers the stream run put in the registry (and of unknown ones).
        known = random.Random(p["seed"]).sample(stream_numbers, min(p["numbers"], p["lookups"]))
        unknown = numbers.take(p["lookups"] // 4)
        doc["lookup"] = {"registry_numbers": p["numbers"]}
        doc["lookup"]["idle"] = await run.phase(
            "lookup_idle", lambda: lookup.lookups(stack.url, known, unknown)
        )

        fan_numbers = numbers.take(p["fanout_rounds"])
        doc["fanout"] = await run.phase(
            "fanout", lambda: fanout.run(stack.url, stack.ws_url, p["consoles"], fan_numbers, "FAN")
        )
        stack.check_alive()

        restart_number = numbers.take(1)[0]
        doc["restart"] = await run.phase(
            "restart", lambda: phases.restart(stack, restart_number, f"URG-RESTART-{run_id}")
        )
        stack.check_alive()

        probe_numbers = numbers.take(p["probes"])
        skip = numbers.reserve(p["bulk_numbers"])
        both = await run.phase(
            "during_import",
            lambda: phases.during_import(
                stack, probe_numbers, known, unknown, skip, p, f"BULK-{run_id}"
            ),
        )
        lat["bulk"], doc["lookup"]["bulk"] = both if both is not None else (None, None)
        memory["worker_rss_mib_at_end"] = _rss(stack.worker)
        memory["bulk_worker_rss_mib_at_end"] = _rss(stack.bulk)
        doc["gateway"]["rss_mib_at_end"] = _rss(stack.gateway)
        stack.check_alive()
    except Exception as exc:  # noqa: BLE001 - keep what was measured; the error is recorded
        ok = False
        doc["errors"]["run"] = "".join(traceback.format_exception_only(exc)).strip()
        traceback.print_exc()
    except BaseException:
        ok = False
        raise
    finally:
        stack.stop()  # synchronous on purpose: must run even while being cancelled
        if ok and not a.keep_logs:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"bench: logs kept in {workdir}", file=sys.stderr)

    _derive(doc)
    doc["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    doc["wall_seconds"] = round(time.monotonic() - run.t0, 1)
    doc["machine"]["load_avg_at_end"] = load_average()
    report.RESULTS.mkdir(exist_ok=True)
    out = report.RESULTS / f"{p['mode']}.json"
    options = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    out.write_bytes(orjson.dumps(doc, option=options))
    return out


def _rss(proc: subprocess.Popen[bytes] | None) -> float | None:
    return None if proc is None else round(rss_bytes(proc.pid) / MiB, 1)


def _derive(doc: dict[str, Any]) -> None:
    """Memory per case, and the verdicts; the report re-judges from the raw numbers."""
    mem = doc.get("memory") or {}
    if mem.get("worker_rss_mib") and mem.get("cases") and mem.get("worker_idle_rss_mib"):
        per_case = (mem["worker_rss_mib"] - mem["worker_idle_rss_mib"]) * MiB / mem["cases"]
        mem["bytes_per_case"] = round(per_case)
    doc["targets"] = targets.record(doc)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run (~3 min)")
    ap.add_argument("--numbers", type=int, help="N scam numbers for the stream run (100000)")
    ap.add_argument("--consoles", type=int, help="consoles for the fan-out (1000)")
    ap.add_argument("--probes", type=int, help="urgent alerts per latency phase (200)")
    ap.add_argument("--bulk-numbers", type=int, help="the list imported in the last phase (1M)")
    ap.add_argument("--batch", type=int, default=5000, help="alerts per import request")
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--keep-logs", action="store_true", help="keep the processes' logs and data")
    ap.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the workers (e.g. Faust's PRODUCER_LINGER=0.005)",
    )
    ap.add_argument("--report-only", action="store_true", help="rebuild docs/benchmarks.md only")
    a = ap.parse_args(argv)
    if not a.report_only:
        out = asyncio.run(bench(a, argv))
        print(f"bench: results in {out}", file=sys.stderr)
    print(f"bench: report in {report.write()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)  # everything started was stopped by the finally blocks on the way out
