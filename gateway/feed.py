"""GET /v1/numbers/changes: the scam numbers shared with the caller, as a resumable feed.

For a partner's blocking system that keeps the whole list in sync. The order is the alert-state
topics' own (gateway/states.py keeps each scam number's state at its latest offset), so the
cursor is a position in Kafka, the same for every gateway: per lane topic and partition, the
offset up to which the caller has been given everything it may see. A page continues exactly
there, so nothing is skipped and nothing repeats unless it changed again (then it comes again,
as it is now). Each entry goes through need_to_know.number_change.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from hotline import need_to_know as ntk
from hotline.codec import dumps, loads
from hotline.errors import InvalidQuery
from hotline.fields import Lane
from hotline.models import AlertState
from hotline.registry import NumberChange, NumberChanges
from hotline.topics import partition_count, topics

from . import errors
from .deps import Reader, ServicesDep

router = APIRouter(prefix="/v1/numbers", tags=["numbers"])

NDJSON = "application/x-ndjson"
LIMIT_MAX = 10_000
# Entries looked at per request, visible or not: a page for an agency that holds few of the
# numbers ends here and says `more`, rather than reading the whole store in one request.
SCAN_FACTOR = 10
SCAN_MIN = 10_000
# The loop answers urgent posts and feeds consoles too: it is let go this often (~5 ms).
YIELD_EVERY = 100
_PREFIX = "c1."

Cursor = dict[Lane, list[int]]


def encode_cursor(cursor: Cursor) -> str:
    raw = orjson.dumps({lane: offsets for lane, offsets in sorted(cursor.items())})
    return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str | None, lanes: dict[Lane, int]) -> Cursor:
    """`lanes`: lane -> partitions of its topic. An empty cursor is the start of everything."""
    start: Cursor = {lane: [0] * n for lane, n in lanes.items()}
    if not text:
        return start
    try:
        if not text.startswith(_PREFIX):
            raise ValueError
        body = text[len(_PREFIX) :]
        doc = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        for lane, n in lanes.items():
            offsets = doc.get(lane, start[lane])
            if (
                not isinstance(offsets, list)
                or len(offsets) != n
                or not all(isinstance(o, int) and o >= 0 for o in offsets)
            ):
                raise ValueError
            start[lane] = offsets
    except (ValueError, TypeError, AttributeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidQuery(
            "after: not a cursor this feed gave out",
            errors=[
                {"field": "after", "message": "not a cursor this feed gave out", "type": "query"}
            ],
        ) from None
    return start


@router.get(
    "/changes",
    response_model=NumberChanges,
    operation_id="numberChanges",
    responses=errors.responses(
        {
            401: "No or unknown partner key or officer token",
            422: "`after` is not a cursor this feed gave out, or `limit` is out of range",
        }
    ),
)
async def number_changes(
    request: Request,
    agency: Reader,
    services: ServicesDep,
    after: Annotated[
        str | None, Query(description="The `next` of the previous page; none: from the start")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX, description="Changes per page")] = 1000,
) -> Response:
    """Every scam number shared with the caller that was added or changed after `after`, with
    the cursor to continue from. `Accept: application/x-ndjson`: one change per line, then a
    last line `{"next", "more"}`."""
    stores = services.known.states.by_topic
    lanes = topics(services.settings).states()
    counts = {lane: partition_count(services.settings, t) for lane, t in lanes.items()}
    cursor = decode_cursor(after, counts)
    changes: list[NumberChange] = []
    scan = max(SCAN_MIN, SCAN_FACTOR * limit)
    more = False
    seen = 0
    for lane, topic in lanes.items():
        store = stores[topic]
        for partition, start in enumerate(cursor[lane]):
            # Read before the entries: what the hub adds meanwhile lies beyond it.
            read = store.read_up_to(partition)
            for offset, alert_id in store.changes(partition, start):
                if len(changes) >= limit or seen >= scan:
                    more = True
                    break
                seen += 1
                if seen % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                cursor[lane][partition] = offset + 1
                raw = store.peek(alert_id)
                change = None if raw is None else ntk.number_change(agency, loads(AlertState, raw))
                if change is not None:
                    changes.append(change)
            if more:
                break
            # Everything this gateway has read of the partition was looked at: a cursor past
            # it is where the next page starts, whichever gateway serves it.
            cursor[lane][partition] = max(cursor[lane][partition], read)
        if more:
            break
    page = NumberChanges(changes=changes, next=encode_cursor(cursor), more=more)
    if NDJSON in request.headers.get("accept", ""):
        return StreamingResponse(_lines(page), media_type=NDJSON)
    return Response(dumps(page), media_type="application/json")


async def _lines(page: NumberChanges) -> AsyncIterator[bytes]:
    for chunk in _chunks(page):
        yield chunk
        await asyncio.sleep(0)


def _chunks(page: NumberChanges, size: int = 500) -> Iterator[bytes]:
    for i in range(0, len(page.changes), size):
        yield b"".join(dumps(c) + b"\n" for c in page.changes[i : i + size])
    yield orjson.dumps({"next": page.next, "more": page.more}) + b"\n"
