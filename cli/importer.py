"""`hotline import`: a scam-number list (CSV or NDJSON) posted through the bulk lane.

Source refs are derived from the file's content and line number, so importing the same file
twice is recognised as a retry instead of doubling a million alerts.
"""

from __future__ import annotations

import csv
import hashlib
import re
import time
from collections.abc import Callable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from tenacity import Retrying

from cli.exits import CommandError, ExitCode
from hotline.retry import RetryLater, partner_policy, raise_for_retry_later

# Sends of one batch before the import stops; waits between them back off up to MAX_WAIT_S
# (or what the gateway's Retry-After asks).
MAX_ATTEMPTS = 10
MAX_WAIT_S = 15.0


def _file_tag(path: Path) -> str:
    h = hashlib.sha256()
    with _open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:10]


def list_name(path: Path, tag: str) -> str:
    """The import's id (what recipients see the list as): the file's name, readable in an
    import id, and its content tag, so the same file sent again is the same list."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", path.name.split(".")[0]).strip("-._")[:40]
    return f"{stem}-{tag}" if stem else f"list-{tag}"


def scam_alert(number: str, ref: str, row: dict[str, Any]) -> dict[str, Any]:
    subject: dict[str, Any] = {"number": number, "scam_type": row.get("scam_type") or "other"}
    for field in ("first_seen", "last_seen"):
        if row.get(field):
            subject[field] = row[field]
    if str(row.get("reports") or "").isdigit():
        subject["reports"] = int(row["reports"])
    return {
        "source_ref": ref,
        "kind": "scam_number",
        "severity": row.get("severity") or "minor",
        "urgency": row.get("urgency") or "future",
        "tlp": row.get("tlp") or "green",
        "title": row.get("title") or f"Reported scam number {number}",
        "language": row.get("language") or "en",
        "subject": subject,
    }


def read_alerts(path: Path, file_tag: str | None = None) -> Iterator[dict[str, Any]]:
    """The file's alerts, in order; CommandError (DATA_ERROR) naming the line that cannot be
    read."""
    tag = f"IMP-{file_tag or _file_tag(path)}"
    if path.suffix.lower() == ".csv":
        yield from _read_csv(path, tag)
        return
    with _open(path, "rb") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                # The parser sees one line at a time: its position is the column.
                raise CommandError(
                    f"{path}, line {line_no}: not JSON ({exc.msg} at column {exc.colno})",
                    ExitCode.DATA_ERROR,
                ) from None
            if isinstance(doc, dict) and "kind" in doc:
                yield doc  # a full alert body: its own source_ref
            elif isinstance(doc, dict):
                yield scam_alert(str(doc.get("number", "")), f"{tag}-{line_no}", doc)
            else:
                yield scam_alert(str(doc), f"{tag}-{line_no}", {})


def _read_csv(path: Path, tag: str) -> Iterator[dict[str, Any]]:
    """A `number` column if the header names one, else the first column. A file whose first
    line is already a number has no header: that line is an alert too, not a column name."""
    with _open(path, "rb") as f:
        reader = csv.reader(_decoded(f, path))
        try:
            header = next(reader, None)
            if header is None:
                return
            if _looks_like_number(header[0] if header else ""):
                rows: Iterator[list[str]] = chain([header], reader)
                header, first_line = [], 1
            else:
                rows, first_line = reader, 2
            column = header.index("number") if "number" in header else 0
            # Blank lines are skipped before counting, as source refs always counted them.
            filled = (row for row in rows if any(cell.strip() for cell in row))
            for line_no, row in enumerate(filled, start=first_line):
                number = row[column] if column < len(row) else ""
                extra = dict(zip(header, row, strict=False)) if header else {}
                yield scam_alert(number.strip(), f"{tag}-{line_no}", extra)
        except csv.Error as exc:
            raise CommandError(
                f"{path}, line {reader.line_num}: {exc}", ExitCode.DATA_ERROR
            ) from None


_NUMBER = re.compile(r"^\+?[\d\s().-]{6,}$")


def _looks_like_number(cell: str) -> bool:
    return bool(_NUMBER.match(cell.strip()))


def _decoded(f: IO[bytes], path: Path) -> Iterator[str]:
    """The file's lines as text, one at a time, so a byte that is not UTF-8 is reported with
    its line (a text-mode file decodes ahead in blocks and cannot tell)."""
    for line_no, raw in enumerate(f, start=1):
        try:
            yield raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
        except UnicodeDecodeError:
            raise CommandError(
                f"{path}, line {line_no}: not UTF-8 text", ExitCode.DATA_ERROR
            ) from None


def _open(path: Path, mode: str, **kwargs: Any) -> IO[Any]:
    try:
        return path.open(mode, **kwargs)
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file", ExitCode.NO_INPUT) from None
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror or exc}", ExitCode.NO_INPUT) from None


def count_alerts(path: Path) -> int:
    """Reads the whole file once before anything is sent: a bad line is reported while
    nothing has been posted yet (a corrected file is a new file, with new source refs)."""
    return sum(1 for _ in read_alerts(path))


def retrying(
    attempts: int, sleep: Callable[[float], None], note: Callable[[str], None]
) -> Retrying:
    """Transport errors and 429/503 are retried: a batch's items carry their source refs, so
    a batch sent twice is answered as a retry, never imported twice."""

    return Retrying(sleep=sleep, **partner_policy(attempts, MAX_WAIT_S, note))


def post_batch(
    client: httpx.Client,
    key: str,
    chunk: list[dict[str, Any]],
    retry: Retrying,
    import_id: str | None = None,
) -> dict[str, Any]:
    body = b"\n".join(orjson.dumps(a) for a in chunk)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    # Every batch of a file names the same import: recipients see one list, not one per batch.
    params = {"import_id": import_id} if import_id else None

    def send() -> httpx.Response:
        return raise_for_retry_later(
            client.post("/v1/alerts/batch", content=body, headers=headers, params=params)
        )

    try:
        r = retry(send)
    except (httpx.TransportError, RetryLater) as exc:
        attempts = retry.statistics.get("attempt_number", 1)
        if isinstance(exc, RetryLater):
            raise CommandError(
                f"the gateway kept answering {exc} (retry later); "
                f"gave up after {attempts} attempts",
                ExitCode.TEMPORARY,
            ) from None
        raise CommandError(
            f"cannot reach the gateway at {client.base_url} ({type(exc).__name__}: {exc}); "
            f"gave up after {attempts} attempts",
            ExitCode.UNAVAILABLE,
        ) from None
    if r.status_code in (401, 403):
        raise CommandError(
            f"the gateway refused the partner key ({r.status_code})", ExitCode.NO_PERMISSION
        )
    if r.status_code != 200:
        detail = " ".join(r.text[:300].split())  # one line, whatever the body
        raise CommandError(f"the gateway refused the batch: {r.status_code} {detail}")
    result: dict[str, Any] = r.json()
    return result


def run_import(
    path: Path,
    *,
    url: str,
    key: str,
    batch: int = 5000,
    attempts: int = MAX_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Posts the file; the exit code (0, or REJECTED when the gateway rejected items).
    CommandError for what stops the import: its message is the one line to show."""
    total = count_alerts(path)
    accepted = rejected = 0
    shown = 0
    tag = _file_tag(path)
    import_id = list_name(path, tag)
    alerts = read_alerts(path, tag)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.0f}/s"),
        TimeRemainingColumn(),
    )
    started = time.monotonic()
    client = httpx.Client(base_url=url, timeout=120.0, transport=transport)
    with client, Progress(*columns) as progress:
        retry = retrying(attempts, sleep, progress.console.print)
        task = progress.add_task(f"Importing {path.name}", total=total, rate=0.0)
        offset = 0
        while chunk := list(islice(alerts, batch)):
            result = post_batch(client, key, chunk, retry, import_id)
            accepted += result["accepted"]
            rejected += result["rejected"]
            for item in result["items"]:
                if item["status"] != 202 and shown < 20:
                    shown += 1
                    where = offset + item["index"] + 1
                    why = item.get("errors") or item.get("detail")
                    progress.console.print(f"item {where}: {why}")
            offset += len(chunk)
            progress.update(
                task, advance=len(chunk), rate=offset / max(time.monotonic() - started, 1e-6)
            )
    print(f"{accepted} accepted, {rejected} rejected (list {import_id})")
    return ExitCode.OK if rejected == 0 else ExitCode.REJECTED
