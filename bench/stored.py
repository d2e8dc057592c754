"""The runs stored in bench/results: loading them, and the newest of each mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import orjson

RESULTS = Path(__file__).resolve().parent / "results"
# Set by bench/__main__.py's _params from N and --quick; the page has one section per mode.
MODES = ("quick", "default", "full")


class Result(NamedTuple):
    """One stored results document and the file it was read from."""

    path: Path
    doc: dict[str, Any]

    @property
    def label(self) -> str:
        return str(self.doc.get("label", ""))

    @property
    def started(self) -> str:
        # ISO 8601 in UTC, all with the same offset: the strings sort as the times do.
        return str(self.doc.get("started_at", ""))


def _documents(results: Path, pattern: str) -> list[Result]:
    found = []
    for path in sorted(results.glob(pattern)):
        if path.name.endswith(".speedscope.json"):
            continue  # py-spy's raw profiles live next to the results
        doc = orjson.loads(path.read_bytes())
        if isinstance(doc, dict) and doc.get("schema") == 1:
            found.append(Result(path, doc))
    return found


def runs(results: Path = RESULTS) -> list[Result]:
    """Every stored `python -m bench` run."""
    return [r for r in _documents(results, "*.json") if r.doc.get("kind") != "ab"]


def ab_runs(results: Path = RESULTS) -> list[Result]:
    """Every stored `python -m bench.ab` run."""
    return [r for r in _documents(results, "ab-*.json") if r.doc.get("kind") == "ab"]


def of_mode(stored: list[Result], mode: str) -> list[Result]:
    """The runs of one mode, oldest first, whatever their label."""
    return sorted((r for r in stored if r.doc.get("mode") == mode), key=lambda r: r.started)


def latest(stored: list[Result], mode: str) -> Result | None:
    same = of_mode(stored, mode)
    return same[-1] if same else None


def kept(stored: list[Result]) -> list[Result]:
    """The runs the page shows: each mode's newest, and what its before/after row compares it
    with (the newest older `before` run, else the run it replaced; as bench/compare.py pairs)."""
    keep: list[Result] = []
    for mode in MODES:
        same = of_mode(stored, mode)
        if not same:
            continue
        new, older = same[-1], same[:-1]
        befores = [r for r in older if r.label == "before"]
        if befores and new.label != "before":
            keep.append(befores[-1])
        elif older:
            keep.append(older[-1])
        keep.append(new)
    return keep


def prune(results: Path = RESULTS) -> list[Path]:
    """Removes the stored runs the page no longer shows, and their raw profiles: a newer run of
    a mode replaces the older ones in the repository as on the page (git keeps the history).
    A/B runs are kept: each is a line of its own. Returns what was removed."""
    found = runs(results)
    keep = {r.path for r in kept(found)}
    gone = [r.path for r in found if r.path not in keep]
    profiles = {p.with_suffix(".speedscope.json") for p in keep}
    gone += [p for p in results.glob("*.speedscope.json") if p not in profiles]
    for path in gone:
        path.unlink()
    return sorted(gone)
