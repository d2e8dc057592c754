"""Reading a request body up to a limit: 413 as soon as it is passed, never after buffering it."""

from __future__ import annotations

import asyncio

from fastapi import Request

from hotline.errors import PayloadTooLarge

# Over this, bytes.join copies without holding the GIL (CPython's own threshold).
JOIN_APART_BYTES = 1024 * 1024


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    if size > JOIN_APART_BYTES:
        # Joining a large import's parts (a server hands them over 64 KiB at a time) is a
        # copy of tens of milliseconds: in a thread, for bytes.join lets go of the GIL.
        return await asyncio.to_thread(b"".join, chunks)
    return b"".join(chunks)
