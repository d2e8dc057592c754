"""The stream core's targets, defined once.

A run records its verdicts with them (`bench/__main__.py`), and the report judges every stored
run, older ones included, by the same thresholds: a run from before a target was tightened is
shown against today's target, not the one it was measured under.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.markdown import get

# A p99 is a string when lost probes leave it undefined (see _p99_counting_lost in __main__).
Value = float | int | str | None

FULL_SCALE = 1_000_000  # cases the memory targets are stated for


def _always(doc: dict[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class Metric:
    """One number of a run, and the target it is held to, if any."""

    label: str
    value: Callable[[dict[str, Any]], Value]
    target: str = ""  # as the page states it; empty: no target
    passes: Callable[[float], bool] | None = None
    # The runs the target speaks about ("with 1,000,000 cases"), and how to recognise them.
    scope: str = ""
    applies: Callable[[dict[str, Any]], bool] = _always
    # No fixed number: the newer of two runs should be lower (judged in bench/compare.py).
    lower_than_before: bool = False


def _at(*path: str) -> Callable[[dict[str, Any]], Value]:
    def value(doc: dict[str, Any]) -> Value:
        found = get(doc, *path)
        return found if isinstance(found, int | float | str) else None

    return value


def _import_over_idle(doc: dict[str, Any]) -> Value:
    idle = get(doc, "latency_p99_counting_lost", "idle")
    bulk = get(doc, "latency_p99_counting_lost", "bulk")
    if isinstance(bulk, str) or isinstance(idle, str):
        return "undefined: probes lost"  # counts as not met, like the p99 it comes from
    if not isinstance(bulk, int | float) or not isinstance(idle, int | float) or not idle:
        return None
    return bulk / idle


def _full_scale(doc: dict[str, Any]) -> bool:
    return (get(doc, "params", "numbers") or 0) >= FULL_SCALE


def _thousand_consoles(doc: dict[str, Any]) -> bool:
    return (get(doc, "fanout", "consoles") or 0) >= 1000


CASES = Metric("bulk alerts in the stream run (N)", _at("params", "numbers"))
URGENT_IDLE = Metric(
    "urgent p99 idle, ms (lost probes count)",
    _at("latency_p99_counting_lost", "idle"),
    "< 50",
    lambda v: v < 50,
)
URGENT_IMPORT = Metric(
    "urgent p99 during an import, ms (lost probes count)",
    _at("latency_p99_counting_lost", "bulk"),
    "< 250",
    lambda v: v < 250,
)
URGENT_RATIO = Metric(
    "urgent p99 during an import ÷ idle p99 of the same run",
    _import_over_idle,
    "≤ 2",
    lambda v: v <= 2,
)
STREAM = Metric(
    "bulk stream ÷ passthrough",
    _at("ratios", "stream_vs_passthrough"),
    "≥ 0.2",
    lambda v: v >= 0.2,
)
STREAM_2 = Metric(
    "bulk stream ÷ passthrough, two bulk workers",
    _at("ratios", "stream_2_bulk_vs_passthrough"),
)
CPU_2 = Metric(
    "worker CPU per bulk alert, two bulk workers, µs",
    _at("stream", "bulk_workers_2", "worker_cpu_us_per_record"),
)
PASSTHROUGH = Metric(
    "passthrough baseline, records/s (the host's speed that run)",
    _at("ratios", "baseline_mean_records_per_s"),
)
CPU = Metric(
    "worker CPU per bulk alert, µs",
    _at("stream", "hotline", "worker_cpu_us_per_record"),
    "lower than before",
    lower_than_before=True,
)
RECORDS = Metric(
    "Kafka records the worker writes per bulk alert",
    _at("stream", "hotline", "records_written_per_alert_total"),
    "fewer than before",
    lower_than_before=True,
)
WORKER_RSS = Metric(
    "worker RSS holding the N cases, MiB (the urgent lane's, which holds the case index)",
    _at("memory", "worker_rss_mib"),
    "< 500",
    lambda v: v < 500,
    "with 1,000,000 cases",
    _full_scale,
)
GATEWAY_RSS = Metric(
    "gateway RSS at the end of the run, MiB",
    _at("gateway", "rss_mib_at_end"),
    "< 400",
    lambda v: v < 400,
    "with 1,000,000 cases",
    _full_scale,
)
RESTART = Metric(
    "worker SIGKILLed holding every case, restarted: urgent alert on the socket, s",
    _at("restart", "restart_to_urgent_delivery_s"),
    "< 10",
    lambda v: v < 10,
)


def _registry_full(doc: dict[str, Any]) -> bool:
    return (get(doc, "lookup", "registry_numbers") or 0) >= FULL_SCALE


def _lookup_p99(phase: str) -> Callable[[dict[str, Any]], Value]:
    def value(doc: dict[str, Any]) -> Value:
        r = get(doc, "lookup", phase) or {}
        if r.get("failed") or r.get("wrong"):
            return f"{r.get('failed', 0)} failed, {r.get('wrong', 0)} wrong"  # not met
        found = get(r, "ms", "p99_ms")
        return found if isinstance(found, int | float) else None

    return value


LOOKUP_IDLE = Metric(
    "lookup p99 idle, ms",
    _lookup_p99("idle"),
    "< 20",
    lambda v: v < 20,
    "with 1,000,000 numbers in the registry",
    _registry_full,
)
LOOKUP_IMPORT = Metric(
    "lookup p99 during an import, ms",
    _lookup_p99("bulk"),
    "< 20",
    lambda v: v < 20,
    "with 1,000,000 numbers in the registry",
    _registry_full,
)
FANOUT = Metric(
    "1,000 consoles all served (worst round), ms",
    _at("fanout", "time_to_all_ms", "max"),
    "< 1,000",
    lambda v: v < 1000,
    "with 1,000 consoles",
    _thousand_consoles,
)

# What a run is judged by, in the order the page lists them.
TARGETS = (
    URGENT_IDLE,
    URGENT_IMPORT,
    URGENT_RATIO,
    STREAM,
    WORKER_RSS,
    GATEWAY_RSS,
    RESTART,
    FANOUT,
    LOOKUP_IDLE,
    LOOKUP_IMPORT,
)
# The rows of the before/after table: the targets and what explains them.
KEY_METRICS = (
    CASES,
    URGENT_IDLE,
    URGENT_IMPORT,
    URGENT_RATIO,
    STREAM,
    STREAM_2,
    PASSTHROUGH,
    CPU,
    CPU_2,
    RECORDS,
    WORKER_RSS,
    GATEWAY_RSS,
    RESTART,
    LOOKUP_IDLE,
    LOOKUP_IMPORT,
)


def judge(metric: Metric, doc: dict[str, Any]) -> bool | None:
    """Met, not met, or None: no fixed target, not measured, or a run the target is not for."""
    value = metric.value(doc)
    if metric.passes is None or value is None or not metric.applies(doc):
        return None
    if isinstance(value, str):
        return False  # probes lost: a latency target cannot be met by the ones that arrived
    return metric.passes(float(value))


def record(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The verdicts a results document stores (the report re-judges, never reads, them)."""
    return [
        {"target": f"{m.label} {stated(m)}", "value": m.value(doc), "met": judge(m, doc)}
        for m in TARGETS
    ]


def verdict(metric: Metric, doc: dict[str, Any]) -> str:
    """The verdict as the page words it; empty where the metric has no fixed target."""
    met = judge(metric, doc)
    if met is not None:
        return "**met**" if met else "**not met**"
    if metric.passes is None:
        return ""
    if metric.value(doc) is None:
        return "not measured"
    return f"n/a: the target is for runs {metric.scope}"


def stated(metric: Metric) -> str:
    """The target with the runs it is for: "< 500 with 1,000,000 cases"."""
    return f"{metric.target} {metric.scope}".strip()
