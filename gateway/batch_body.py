"""A batch post's body, parsed by the intake workers rather than on the gateway's event loop.

orjson takes a few hundred milliseconds over a 32 MiB import: on the loop, that long without
an answer for the urgent posts and the consoles it also serves. So the loop only tells a JSON
array from NDJSON and finds where to cut an NDJSON body into pieces, at line ends; a worker
parses a piece (an array whole: its items cannot be told apart without parsing it) and hands
back how many items it holds, the few it refuses as it parses, and the others written back,
one compact JSON document a line, in chunks for the checks. Bytes, not parsed items, cross
between the processes: quick to pass, and the gateway never holds a batch's objects.

Parsing comes first and apart from checking because the loop must know how many items a body
holds before it spends anything on them: over `max_batch`, or over the partner's rate, the
batch is refused whole, unchecked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import orjson

from hotline.errors import InvalidAlert

from .intake import Outcome, Refused, json_body

# A body's first character is looked for this much at a time: one that starts with a lot of
# whitespace is never copied whole on the loop to find it.
_WINDOW_BYTES = 4096

# An item orjson cannot write back (nested over 254 levels; it parses up to 1024) is judged
# where it is parsed: far too deep for an alert, it is refused without ever reaching a chunk.
Refuse = Callable[[Any], Outcome]


class Split(NamedTuple):
    """A body's items as a worker parsed them, in the order the partner sent them."""

    total: int  # every item, those in `decided` too
    chunks: list[bytes]  # the other items, one JSON document a line, `chunk_items` a chunk
    decided: dict[int, Outcome]  # by index: items refused as they were parsed


def is_array(raw: bytes, content_type: str) -> bool:
    """Whether a body is read as a JSON array (else NDJSON, one alert a line).

    A body declared as JSON must be an array: anything else is what the document refuses.
    Without a declared type the body is recognised by its first character.
    """
    media = content_type.partition(";")[0].strip().lower()
    if media == "application/json":
        return True
    if "ndjson" in media:
        return False
    for start in range(0, len(raw), _WINDOW_BYTES):
        head = raw[start : start + _WINDOW_BYTES].lstrip()
        if head:
            return head.startswith(b"[")
    return False


def pieces(raw: bytes, size: int) -> list[tuple[int, int]]:
    """Where to cut an NDJSON body: just after a line feed every `size` bytes or so.

    A line ends at a line feed whatever precedes it (a CR LF pair stays in one piece), so the
    pieces' lines are exactly the body's. The loop finds a few bytes and never reads a line;
    each piece is copied out only as it is handed to a worker, a megabyte at a time.
    """
    out, start = [], 0
    while start < len(raw):
        end = raw.find(b"\n", start + size - 1) + 1 or len(raw)
        out.append((start, end))
        start = end
    return out


def split_array(raw: bytes, limit: int, chunk_items: int, refuse: Refuse) -> Split:
    """A JSON array body; raises InvalidAlert, for the whole request, for any other body."""
    data = json_body(raw)
    if not isinstance(data, list):
        raise InvalidAlert(
            "a batch is a JSON array, or NDJSON sent as application/x-ndjson",
            errors=[{"field": "body", "message": "expected a JSON array", "type": "list_type"}],
        )
    if len(data) > limit:  # refused whole: only the count matters
        return Split(len(data), [], {})
    return _encoded(enumerate(data), len(data), chunk_items, refuse, {})


def split_lines(piece: bytes, limit: int, chunk_items: int, refuse: Refuse) -> Split:
    """A piece of an NDJSON body: one item a line, blank lines skipped; a line that is not JSON
    is that item's 422."""
    lines = [line for line in piece.splitlines() if line.strip()]
    if len(lines) > limit:
        return Split(len(lines), [], {})
    decided: dict[int, Outcome] = {}
    items = []
    for i, line in enumerate(lines):
        try:
            items.append((i, orjson.loads(line)))
        except orjson.JSONDecodeError as exc:
            decided[i] = Refused.of(
                InvalidAlert(
                    f"line is not valid JSON: {exc}",
                    errors=[{"field": "body", "message": str(exc), "type": "json_invalid"}],
                )
            )
    return _encoded(items, len(lines), chunk_items, refuse, decided)


def _encoded(
    items: Iterable[tuple[int, Any]],
    total: int,
    chunk_items: int,
    refuse: Refuse,
    decided: dict[int, Outcome],
) -> Split:
    """The items written back, one a line (orjson writes no line break, not even in a string),
    `chunk_items` a chunk."""
    chunks: list[bytes] = []
    lines: list[bytes] = []
    for i, item in items:
        try:
            lines.append(orjson.dumps(item))
        except orjson.JSONEncodeError:
            decided[i] = refuse(item)
            continue
        if len(lines) == chunk_items:
            chunks.append(b"\n".join(lines))
            lines = []
    if lines:
        chunks.append(b"\n".join(lines))
    return Split(total, chunks, decided)


def joined(splits: Iterable[Split]) -> Split:
    """The pieces of one body as one: their items numbered on from each other's."""
    total = 0
    chunks: list[bytes] = []
    decided: dict[int, Outcome] = {}
    for split in splits:
        chunks.extend(split.chunks)
        decided.update((total + i, outcome) for i, outcome in split.decided.items())
        total += split.total
    return Split(total, chunks, decided)


def items_of(chunk: bytes) -> list[Any]:
    """A chunk's items, in order."""
    return [orjson.loads(line) for line in chunk.split(b"\n")]


def size_of(chunk: bytes) -> int:
    """How many items a chunk holds, without parsing it."""
    return chunk.count(b"\n") + 1
