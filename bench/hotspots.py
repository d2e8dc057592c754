"""Where the worker's time goes: py-spy on the live worker, cProfile on the stream in-process.

py-spy samples the real worker process during a bulk run (no code change in the worker; it
needs ptrace, so it is optional). cProfile drives `streams.process.Processor.submission` on the
same records with plain dicts for tables: deterministic call counts, and the pure-Python
ceiling of the stream logic without Faust or Kafka.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli.processes import die_with_parent
from hotline.codec import loads
from hotline.models import AlertRecord
from hotline.settings import Settings
from streams.case_tables import CaseTables
from streams.process import Processor
from streams.state import State

KV = tuple[bytes, bytes]
TOP = 40
_IDLE_NAMES = {"select", "poll"}
# Frames every sample passes through (process start-up, the event loop itself): left out of
# the inclusive tables, where they would only push the informative rows down.
_PLUMBING = {"asyncio", "typer", "<frozen runpy>", "threading", "click", "selectors", "bench"}
_PLUMBING_FILES = ("cli/main.py", "cli/__main__.py", "mode/worker.py", "mode/threads.py")
# Stages of the stream (inclusive time), by (function name, file suffix).
STAGES: tuple[tuple[str, str, str], ...] = (
    ("decode AlertRecord (codec.loads)", "loads", "hotline/codec.py"),
    ("Processor.submission (all stages)", "submission", "streams/process.py"),
    ("dedupe.check", "check", "streams/dedupe.py"),
    ("enrich", "enrich", "hotline/enrich.py"),
    ("cases.join", "join", "streams/cases.py"),
    ("route.recipients", "recipients", "hotline/route.py"),
    ("need_to_know.case_view", "case_view", "hotline/need_to_know.py"),
    ("Announcer.store (AlertState -> JSON)", "store", "streams/announce.py"),
    ("Announcer.event (ConsoleEvent -> JSON)", "event", "streams/announce.py"),
    ("codec.dumps (all serialization)", "dumps", "hotline/codec.py"),
)


def py_spy_path() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


class Sampler:
    """`py-spy record` attached to a pid until stop(); writes speedscope JSON."""

    def __init__(self, pid: int, out: Path, max_seconds: float, rate: int = 100) -> None:
        self.out = out
        exe = py_spy_path()
        if exe is None:
            raise RuntimeError("py-spy is not installed (pip install py-spy into .venv)")
        self.proc = subprocess.Popen(
            [
                exe,
                "record",
                "--pid",
                str(pid),
                "--format",
                "speedscope",
                "--output",
                str(out),
                "--rate",
                str(rate),
                "--duration",
                str(int(max_seconds)),
                "--function",
                "--full-filenames",
                "--idle",
                "--nonblocking",  # never pause the worker: the run it watches is also timed
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        self.started = time.monotonic()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        out = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
        return out[-2000:]


def _short(path: str) -> str:
    for marker in (
        "site-packages/",
        "/work/main/",
        f"python{sys.version_info[0]}.{sys.version_info[1]}/",
    ):
        if marker in path:
            return path.split(marker, 1)[1]
    return os.path.basename(path)


def _package(path: str) -> str:
    short = _short(path)
    head = short.split("/", 1)[0]
    return head.removesuffix(".py")


def _is_idle(frame: dict[str, Any]) -> bool:
    # An event loop waiting in epoll/poll/select, or a pool thread waiting for work.
    name = frame["name"].rsplit(".", 1)[-1]
    base = os.path.basename(frame.get("file", ""))
    return (base == "selectors.py" and name in _IDLE_NAMES) or (
        base == "threading.py" and name == "wait"
    )


def summarize_speedscope(path: Path, top: int = TOP) -> dict[str, Any]:
    """Per thread: how much of the time it was busy, and self / inclusive shares of its busy
    samples per function, plus self time rolled up per package."""
    doc = json.loads(path.read_text())
    frames = doc["shared"]["frames"]
    labels = [f"{f['name']} ({_short(f.get('file', ''))}:{f.get('line', 0)})" for f in frames]
    packages = [_package(f.get("file", "")) for f in frames]
    idle_ids = {i for i, f in enumerate(frames) if _is_idle(f)}
    plumbing = {
        i
        for i, f in enumerate(frames)
        if packages[i] in _PLUMBING or _short(f.get("file", "")) in _PLUMBING_FILES
    }
    threads = []
    for prof in doc["profiles"]:
        # Keyed by label: one function can appear as several frames (one per code object).
        self_n: Counter[str] = Counter()
        incl_n: Counter[str] = Counter()
        pkg_n: Counter[str] = Counter()
        pkg_incl: Counter[str] = Counter()
        samples = idle = 0
        for stack in prof["samples"]:
            samples += 1
            if not stack or stack[-1] in idle_ids:
                idle += 1
                continue
            self_n[labels[stack[-1]]] += 1
            pkg_n[packages[stack[-1]]] += 1
            for label in {labels[fid] for fid in stack if fid not in plumbing}:
                incl_n[label] += 1
            for pkg in {packages[fid] for fid in stack if fid not in plumbing}:
                pkg_incl[pkg] += 1
        busy = samples - idle

        def share(n: int, busy: int = busy) -> float:
            return round(100 * n / busy, 1) if busy else 0.0

        threads.append(
            {
                "thread": prof.get("name", "?"),
                "samples": samples,
                "busy_pct": round(100 * busy / samples, 1) if samples else 0.0,
                "top_self": [{"function": f, "pct": share(n)} for f, n in self_n.most_common(top)],
                "top_inclusive": [
                    {"function": f, "pct": share(n)} for f, n in incl_n.most_common(top)
                ],
                "self_by_package": [
                    {"package": p, "pct": share(n)} for p, n in pkg_n.most_common(15)
                ],
                # Share of busy samples with the package anywhere on the stack.
                "inclusive_by_package": [
                    {"package": p, "pct": share(n)}
                    for p, n in pkg_incl.most_common(20)
                    if p not in _PLUMBING
                ],
            }
        )
    threads.sort(key=lambda t: t["samples"] * t["busy_pct"], reverse=True)
    return {"threads": threads}


def _fresh_state() -> State:
    return State(alerts={}, cases=CaseTables({}, {}, {}, {}), escalations={})


def _drive(processor: Processor, values: Sequence[bytes]) -> int:
    st = _fresh_state()
    outs = 0
    for value in values:
        # What streams/handlers.py's `submission` does, minus Faust and Kafka.
        outs += len(processor.submission(loads(AlertRecord, value), st, datetime.now(UTC)))
    return outs


def cprofile_submission(records: Sequence[KV], top: int = TOP) -> dict[str, Any]:
    """Rate of the pure stream logic on `records`, then a cProfile of the same work."""
    settings = Settings()
    processor = Processor(settings)
    values = [v for _, v in records]
    _drive(processor, values[: min(500, len(values))])  # warm caches (phonenumbers metadata)
    started = time.perf_counter()
    outs = _drive(processor, values)
    plain_s = time.perf_counter() - started
    profiler = cProfile.Profile()
    profiler.enable()
    _drive(processor, values)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total_tt = sum(v[2] for v in raw.values()) or 1.0
    rows = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    stages = {}
    for label, func, suffix in STAGES:
        ct = sum(v[3] for (f, _, name), v in raw.items() if name == func and f.endswith(suffix))
        stages[label] = round(1e6 * ct / len(values), 1)
    return {
        "records": len(values),
        "outputs_per_record": round(outs / len(values), 2),
        "pure_rate_per_s": round(len(values) / plain_s, 1),
        "pure_us_per_record": round(1e6 * plain_s / len(values), 1),
        "profiled_us_per_record_by_stage": stages,
        "top_tottime": [
            {
                "function": f"{name} ({_short(f)}:{line})",
                "calls_per_record": round(v[1] / len(values), 2),
                "tottime_pct": round(100 * v[2] / total_tt, 1),
                "cumtime_us_per_record": round(1e6 * v[3] / len(values), 1),
            }
            for (f, line, name), v in rows
        ],
    }
