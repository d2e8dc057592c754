"""Markdown pieces the benchmark page is built from: a path into a results document, a number
as the page shows it, a table."""

from __future__ import annotations

import math
from typing import Any


def get(doc: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(doc, dict):
            doc = doc.get(key)
        elif isinstance(doc, list) and isinstance(key, int) and -len(doc) <= key < len(doc):
            doc = doc[key]
        else:
            return None
    return doc


def fmt(value: Any, digits: int | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if digits is None:  # ratios keep three decimals, rates and times one
            digits = 3 if abs(value) < 1 else 2 if abs(value) < 10 else 1
        return f"{value:,.{digits}f}"
    return str(value)


def table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += [
        "| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in r) + " |" for r in rows
    ]
    return "\n".join(lines)


def ratio_cell(value: Any, base: Any) -> str:
    numbers = (int, float)
    if not isinstance(value, numbers) or not isinstance(base, numbers) or not value or not base:
        return "—"  # missing, or a phrase such as "lost: 29 of 30 probes"
    return f"{value / base:.2f}"
