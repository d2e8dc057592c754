"""What a run is judged by, and what the page shows beside it: each number defined once.

A run records its verdicts with these (`bench/__main__.py`), and the report judges every stored
run by the same thresholds: a run from before a target was tightened is shown against today's
target, not the one it was measured under.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# A p99 is a phrase when lost probes leave it undefined (see p99_counting_lost).
Value = float | int | str | None
Doc = dict[str, Any]

FULL_SCALE = 1_000_000  # cases, numbers in the registry: what the scale targets speak of


def get(doc: Any, *path: str | int) -> Any:
    """`doc[path[0]][path[1]]…`, or None where any step is missing."""
    for key in path:
        if isinstance(doc, dict):
            doc = doc.get(key)
        elif isinstance(doc, list) and isinstance(key, int) and -len(doc) <= key < len(doc):
            doc = doc[key]
        else:
            return None
    return doc


def _always(doc: Doc) -> bool:
    return True


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "≤": operator.le,
    "≥": operator.ge,
}


@dataclass(frozen=True)
class Metric:
    """One number of a run, and the target it is held to, if any."""

    label: str
    value: Callable[[Doc], Value]
    target: str = ""  # as the page states it ("< 50", "≥ 0.5"); empty: no target
    # The runs the target speaks about ("with 1,000,000 cases"), and how to recognise them.
    scope: str = ""
    applies: Callable[[Doc], bool] = _always

    def passes(self, value: float) -> bool:
        op, bound = self.target.split(" ", 1)
        return bool(_OPS[op](value, float(bound.replace(",", ""))))


def _at(*path: str | int) -> Callable[[Doc], Value]:
    def value(doc: Doc) -> Value:
        found = get(doc, *path)
        return found if isinstance(found, int | float | str) else None

    return value


def p99_counting_lost(lat: Doc | None) -> float | str | None:
    """p99 of POST -> socket with every lost probe (no event within 10 s) counted as slower
    than any that arrived: a p99 over the survivors alone would flatter a failing system."""
    if not lat:
        return None
    arrived = lat.get("raw_post_to_ws_ms") or []
    lost = int(lat.get("lost") or 0) + int(lat.get("refused") or 0)
    total = len(arrived) + lost
    if total == 0:
        return None
    rank = max(1, math.ceil(0.99 * total))
    if rank > len(arrived):
        return f"lost: {lost} of {total} probes got no event within 10 s or were refused"
    return float(sorted(arrived)[rank - 1])


def _urgent(phase: str) -> Callable[[Doc], Value]:
    return lambda doc: p99_counting_lost(get(doc, "latency", phase))


def _import_over_idle(doc: Doc) -> Value:
    idle, bulk = _urgent("idle")(doc), _urgent("bulk")(doc)
    if isinstance(bulk, str) or isinstance(idle, str):
        return "undefined: probes lost"  # counts as not met, like the p99 it comes from
    if not isinstance(bulk, int | float) or not isinstance(idle, int | float) or not idle:
        return None
    return bulk / idle


def _baseline(doc: Doc) -> Value:
    """The passthrough's mean rate over its runs that completed: the host's speed that run."""
    base = [b["records_per_s"] for b in get(doc, "stream", "baseline") or [] if b.get("complete")]
    return sum(base) / len(base) if base else None


def _stream_ratio(doc: Doc) -> Value:
    base, hot = _baseline(doc), get(doc, "stream", "hotline", "records_per_s")
    if not isinstance(base, int | float) or not base or not isinstance(hot, int | float):
        return None
    return hot / base


def _lookup_p99(phase: str) -> Callable[[Doc], Value]:
    def value(doc: Doc) -> Value:
        r = get(doc, "lookup", phase) or {}
        if r.get("failed") or r.get("wrong"):
            return f"{r.get('failed', 0)} failed, {r.get('wrong', 0)} wrong"  # not met
        found = get(r, "ms", "p99_ms")
        return found if isinstance(found, int | float) else None

    return value


def _full_scale(doc: Doc) -> bool:
    return (get(doc, "params", "numbers") or 0) >= FULL_SCALE


def _registry_full(doc: Doc) -> bool:
    return (get(doc, "lookup", "registry_numbers") or 0) >= FULL_SCALE


def _thousand_consoles(doc: Doc) -> bool:
    return (get(doc, "fanout", "consoles") or 0) >= 1000


def _list_of_a_million(doc: Doc) -> bool:
    # Delivered, not only posted: the import is stopped after its window, and the messages of
    # its first thousands say nothing about a million.
    during = get(doc, "latency", "bulk", "bulk_during_probes") or {}
    return (during.get("import_alerts_delivered_while_probing") or 0) >= FULL_SCALE


URGENT_IDLE = Metric("urgent p99 idle, ms", _urgent("idle"), "< 50")
URGENT_IMPORT = Metric("urgent p99 during an import, ms", _urgent("bulk"), "< 250")
URGENT_RATIO = Metric("urgent p99 during an import ÷ idle", _import_over_idle, "≤ 2")
STREAM = Metric("bulk stream ÷ passthrough", _stream_ratio, "≥ 0.5")
RECORDS = Metric(
    "Kafka records written per bulk number",
    _at("stream", "hotline", "records_written_per_alert_total"),
    "≤ 2",
)
WORKER_RSS = Metric(
    "worker RSS holding the N cases, MiB",
    _at("memory", "worker_rss_mib"),
    "< 500",
    "with 1,000,000 cases",
    _full_scale,
)
GATEWAY_RSS = Metric(
    "gateway RSS at the end, MiB",
    _at("gateway", "rss_mib_at_end"),
    "< 400",
    "with 1,000,000 cases",
    _full_scale,
)
RESTART = Metric(
    "worker SIGKILLed and restarted: urgent alert on the socket, s",
    _at("restart", "restart_to_urgent_delivery_s"),
    "< 10",
)
FANOUT = Metric(
    "1,000 consoles all served (worst round), ms",
    _at("fanout", "time_to_all_ms", "max"),
    "< 1,000",
    "with 1,000 consoles",
    _thousand_consoles,
)
LOOKUP_IDLE = Metric(
    "lookup p99 idle, ms",
    _lookup_p99("idle"),
    "< 20",
    "with 1,000,000 numbers in the registry",
    _registry_full,
)
LOOKUP_IMPORT = Metric(
    "lookup p99 during an import, ms",
    _lookup_p99("bulk"),
    "< 20",
    "with 1,000,000 numbers in the registry",
    _registry_full,
)
CONSOLE_MESSAGES = Metric(
    "console messages a list took (digests and hits)",
    _at("latency", "bulk", "bulk_during_probes", "import_console_messages"),
    "< 1,000",
    "for a list of 1,000,000 numbers",
    _list_of_a_million,
)

TARGETS = (
    URGENT_IDLE,
    URGENT_IMPORT,
    URGENT_RATIO,
    STREAM,
    RECORDS,
    WORKER_RSS,
    GATEWAY_RSS,
    RESTART,
    FANOUT,
    LOOKUP_IDLE,
    LOOKUP_IMPORT,
    CONSOLE_MESSAGES,
)

# What explains the verdicts: shown beside them, held to no number of their own.
MEASUREMENTS = (
    Metric("bulk alerts in the stream run (N)", _at("params", "numbers")),
    Metric("passthrough baseline, records/s", _baseline),
    Metric("hotline bulk stream, records/s", _at("stream", "hotline", "records_per_s")),
    Metric("worker CPU per bulk alert, µs", _at("stream", "hotline", "worker_cpu_us_per_record")),
    Metric("urgent p50 idle, ms", _at("latency", "idle", "post_to_ws", "p50_ms")),
    Metric("urgent p50 during an import, ms", _at("latency", "bulk", "post_to_ws", "p50_ms")),
    Metric(
        "urgent POST → 202 p99 during an import, ms",
        _at("latency", "bulk", "post_to_202", "p99_ms"),
    ),
    Metric(
        "import posted during the probes, alerts/s",
        _at("latency", "bulk", "bulk_during_probes", "bulk_ingested_per_s"),
    ),
    Metric("lookup p50 during an import, ms", _at("lookup", "bulk", "ms", "p50_ms")),
    Metric("numbers in the registry", _at("lookup", "registry_numbers")),
    Metric("worker bytes per case", _at("memory", "bytes_per_case")),
    Metric("bulk worker RSS at the end, MiB", _at("memory", "bulk_worker_rss_mib_at_end")),
    Metric("worker ready after the restart, s", _at("restart", "worker_ready_s")),
    Metric("consoles in the fan-out", _at("fanout", "consoles")),
    Metric(
        "fan-out per console p99 (round median), ms",
        _at("fanout", "per_console_round_medians", "p99_ms"),
    ),
)


def judge(metric: Metric, doc: Doc) -> bool | None:
    """Met, not met, or None: no fixed target, not measured, or a run the target is not for."""
    value = metric.value(doc)
    if not metric.target or value is None or not metric.applies(doc):
        return None
    if isinstance(value, str):
        return False  # probes lost: a latency target cannot be met by the ones that arrived
    return metric.passes(float(value))


def stated(metric: Metric) -> str:
    """The target with the runs it is for: "< 500 with 1,000,000 cases"."""
    return f"{metric.target} {metric.scope}".strip()


def verdict(metric: Metric, doc: Doc) -> str:
    """The verdict as the page words it; empty where the metric has no fixed target."""
    met = judge(metric, doc)
    if met is not None:
        return "**met**" if met else "**not met**"
    if not metric.target:
        return ""
    if metric.value(doc) is None:
        return "not measured"
    return "n/a (smaller run)"


def record(doc: Doc) -> list[dict[str, Any]]:
    """The verdicts a results document stores (the report re-judges, never reads, them)."""
    return [
        {"target": f"{m.label} {stated(m)}", "value": m.value(doc), "met": judge(m, doc)}
        for m in TARGETS
    ]
