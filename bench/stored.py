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
