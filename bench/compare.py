"""The before/after table: each mode's newest run beside the run it is measured against.

That is the newest `before` run of the mode older than it; failing that (no `before` run of
the mode, or the newest run is itself a new `before`), the run of the mode it replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench import stored, targets
from bench.markdown import fmt, get, table
from bench.stored import Result
from bench.targets import Metric


@dataclass(frozen=True)
class Pair:
    mode: str
    old: Result
    new: Result
    old_is_before: bool  # False: `old` is merely the run `new` replaced


def pair(runs: list[Result], mode: str) -> Pair | None:
    shown = [r for r in stored.kept(runs) if r.doc.get("mode") == mode]
    if len(shown) < 2:
        return None
    old, new = shown
    return Pair(mode, old, new, old_is_before=old.label == "before" and new.label != "before")


def _cell(metric: Metric, run: Result, other: Result | None = None) -> str:
    """The value and its verdict; `other` is the older run, for "lower than before"."""
    value = metric.value(run.doc)
    if value is None:
        return "not measured" if metric.target else "—"
    if metric.lower_than_before:
        before = metric.value(other.doc) if other else None
        if isinstance(value, int | float) and isinstance(before, int | float):
            return f"{fmt(value)} {'**met**' if value < before else '**not met**'}"
        return fmt(value)
    met = targets.judge(metric, run.doc)
    if met is None:
        return fmt(value) + (" (n/a)" if metric.target else "")
    return f"{fmt(value)} {'**met**' if met else '**not met**'}"


def _describe(run: Result) -> str:
    head = get(run.doc, "machine", "code", "head")
    return (
        f"`{run.path.name}` (label `{run.label}`, {run.started[:10]}, code `{head}`,"
        f" {get(run.doc, 'machine', 'cpu_model')})"
    )


def _which(mode: str, found: Pair | None, runs: list[Result]) -> str:
    if found is None:
        only = stored.latest(runs, mode)
        if only is None:
            return f"- {mode}: no run stored."
        return f"- {mode}: only {_describe(only)} is stored; nothing to compare it with yet."
    if found.old_is_before:
        return (
            f"- {mode}: the newest `before` run, {_describe(found.old)}, against the newest"
            f" run, {_describe(found.new)}."
        )
    return (
        f"- {mode}: no `before` run older than the newest one is stored, so the newest run,"
        f" {_describe(found.new)}, is compared with the run of this mode it replaced,"
        f" {_describe(found.old)}."
    )


def block(runs: list[Result]) -> str:
    pairs = {mode: pair(runs, mode) for mode in stored.MODES}
    found = [p for p in pairs.values() if p is not None]
    which = "\n".join(_which(mode, p, runs) for mode, p in pairs.items())
    if not found:
        return which
    head = ["metric", "target"]
    for p in found:
        head += [f"{p.mode}: `{p.old.path.name}`", f"{p.mode}: `{p.new.path.name}`"]
    rows: list[list[Any]] = []
    for m in targets.KEY_METRICS:
        row = [m.label, targets.stated(m) or "—"]
        for p in found:
            row += [_cell(m, p.old), _cell(m, p.new, p.old)]
        rows.append(row)
    return (
        table(head, rows)
        + "\n\nCompared, per mode:\n\n"
        + which
        + "\n\nVerdicts are against today's targets (`bench/targets.py`), older runs included;"
        " (n/a) marks a target stated for runs with more cases or consoles than that run had,"
        ' and "lower/fewer than before" is judged on the newer run only. Runs days apart land'
        " on different hosts of the shared pool under different load (the passthrough row is"
        " that host's speed): the ratios to the same run's baseline compare, absolute rates"
        " and CPU per alert only roughly."
    )
