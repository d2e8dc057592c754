"""`python -m bench.ab --worker-env NAME=VALUE ...`: stream throughput of the worker as it is
(A) and with extra environment (B), back to back on one broker, each between passthrough runs.

For a tuning that needs no code change (Faust reads e.g. PRODUCER_LINGER from the
environment): measured on the same records, same broker, same minutes, so the machine's
noise hits both sides alike. Order A, B, A, B; each side on its own topic prefix. Results go
to bench/results/ab-<name>.json and are listed in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import report, throughput
from bench.machine import facts, load_average
from bench.records import Numbers, bulk_records
from bench.stack import Stack
from bench.stats import ratio
from cli.processes import stop

RESULTS = Path(__file__).with_name("results")


async def _side(
    broker_stack: Stack, prefix: str, env: dict[str, str], records: Any, label: str
) -> dict[str, Any]:
    stack = Stack(broker_stack.workdir, prefix=prefix, worker_env=env)
    stack.broker = broker_stack.broker  # one broker for both sides
    try:
        stack.start_worker()
        run = await throughput.stream_run(stack, records, label)
    finally:
        stop(stack.worker)
    run["worker_env"] = env
    run["load_avg_after"] = load_average()
    return run


async def ab(numbers: int, env: dict[str, str], rounds: int, seed: int) -> dict[str, Any]:
    run_id = secrets.token_hex(3)
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-ab-"))
    pool = Numbers(seed, numbers * 2 * rounds)
    base = Stack(workdir, prefix=f"ab{run_id}")
    sides: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
    baselines: list[dict[str, Any]] = []
    ok = False
    try:
        base.start_broker()
        recs: list[tuple[bytes, bytes]] = []
        for r in range(rounds):
            # Fresh numbers per side and round: every alert opens a new case on either side.
            for side, side_env in (("A", {}), ("B", env)):
                recs = bulk_records(pool.take(numbers), f"AB{side}{r}-{run_id}")
                if side == "A":
                    baselines.append(await throughput.baseline_run(base, recs, f"pt-{r}"))
                sides[side].append(
                    await _side(base, f"ab{run_id}{side.lower()}{r}", side_env, recs, side)
                )
        baselines.append(await throughput.baseline_run(base, recs, "pt-last"))
        ok = True
    finally:
        base.stop()
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"bench.ab: logs kept in {workdir}", file=sys.stderr)
    rate = {s: [x["records_per_s"] for x in runs] for s, runs in sides.items()}
    cpu = {s: [x["worker_cpu_us_per_record"] for x in runs] for s, runs in sides.items()}
    base_mean = sum(b["records_per_s"] for b in baselines) / len(baselines)
    mean = {s: sum(v) / len(v) for s, v in rate.items()}
    return {
        "schema": 1,
        "kind": "ab",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.ab", *sys.argv[1:]]),
        "machine": facts(),
        "numbers": numbers,
        "worker_env_b": env,
        "sides": sides,
        "baselines": baselines,
        "summary": {
            "a_records_per_s": round(mean["A"], 1),
            "b_records_per_s": round(mean["B"], 1),
            "b_over_a": ratio(mean["B"], mean["A"]),
            "a_vs_passthrough": ratio(mean["A"], base_mean),
            "b_vs_passthrough": ratio(mean["B"], base_mean),
            "a_worker_cpu_us_per_alert": round(sum(cpu["A"]) / len(cpu["A"]), 1),
            "b_worker_cpu_us_per_alert": round(sum(cpu["B"]) / len(cpu["B"]), 1),
            "passthrough_mean_records_per_s": round(base_mean, 1),
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n")[0])
    ap.add_argument("--numbers", type=int, default=20_000, help="alerts per side and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--worker-env", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--name", required=True, help="names the results file ab-<name>.json")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    env = dict(kv.split("=", 1) for kv in a.worker_env)
    doc = asyncio.run(ab(a.numbers, env, a.rounds, a.seed))
    doc["name"] = a.name
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"ab-{a.name}.json"
    out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    print(orjson.dumps(doc["summary"], option=orjson.OPT_INDENT_2).decode())
    report.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
