"""`hotline audit export` and `hotline audit verify`: an agency's audit record on file.

An export is NDJSON, one entry a line as GET /v1/audit gives it, in chain order; `verify`
checks the chain (hotline/audit.py) from the first entry's own place in it, so an export that
starts mid-chain (`--since`) verifies too. CSV is for reading by people: the same fields,
counterparts joined by spaces; it is verified the same way.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import orjson
from pydantic import ValidationError
from rich.progress import Progress, SpinnerColumn, TextColumn
from tenacity import Retrying

from cli.exits import CommandError, ExitCode
from hotline.audit import AuditEntry, Broken, broken
from hotline.retry import partner_policy, raise_for_retry_later

Format = Literal["ndjson", "csv"]
PAGE = 1000
MAX_WAIT_S = 15.0
CSV_FIELDS = ["seq", "at", "agency", "action", "alert_id", "counterparts", "detail", "event_id"]
CSV_FIELDS += ["prev", "hash"]


def export(
    url: str,
    key: str,
    out: Path,
    *,
    since: str | None = None,
    until: str | None = None,
    fmt: Format = "ndjson",
    attempts: int = 10,
    sleep: Callable[[float], None] = time.sleep,
    note: Callable[[str], None] = print,
) -> int:
    """Writes the caller's entries to `out` (aside, then renamed); how many."""
    retry = Retrying(sleep=sleep, **partner_policy(attempts, MAX_WAIT_S, note))
    entries: list[AuditEntry] = []
    with (
        httpx.Client(timeout=60) as client,
        Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as progress,
    ):
        task = progress.add_task("reading the audit record")
        cursor: str | None = None
        while True:
            page = retry(_page, client, url, key, {"since": since, "until": until, "after": cursor})
            for raw in page["entries"]:
                entry = AuditEntry.model_validate_json(orjson.dumps(raw))
                # An entry written twice is the same entry: taken once.
                if not entries or entry.seq > entries[-1].seq:
                    entries.append(entry)
            progress.update(task, description=f"{len(entries):,} entries read")
            cursor = page["next"]
            if cursor is None:
                break
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(render(entries, fmt), encoding="utf-8")
    tmp.replace(out)
    return len(entries)


def _page(client: httpx.Client, url: str, key: str, params: dict[str, Any]) -> dict[str, Any]:
    asked = {k: v for k, v in params.items() if v is not None} | {"limit": PAGE}
    r = client.get(f"{url}/v1/audit", params=asked, headers={"Authorization": f"Bearer {key}"})
    raise_for_retry_later(r)
    if r.status_code == 401:
        raise CommandError("the gateway refused the key", ExitCode.NO_PERMISSION)
    if r.status_code == 422:
        raise CommandError(r.json().get("detail", r.text[:200]), ExitCode.USAGE)
    if r.status_code != 200:
        raise CommandError(f"the gateway answered HTTP {r.status_code}: {r.text[:200]}")
    answer: dict[str, Any] = r.json()
    return answer


def render(entries: list[AuditEntry], fmt: Format) -> str:
    if fmt == "ndjson":
        return "".join(e.model_dump_json() + "\n" for e in entries)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for e in entries:
        row = e.model_dump(mode="json")
        row["counterparts"] = " ".join(e.counterparts)
        row["detail"] = orjson.dumps(e.detail).decode()
        writer.writerow({k: row[k] for k in CSV_FIELDS})
    return buffer.getvalue()


def read(path: Path) -> list[AuditEntry]:
    """The entries of an export, NDJSON or CSV (by its first line)."""
    text = path.read_text(encoding="utf-8")
    try:
        return list(_from_csv(text) if text.startswith("seq,") else _from_ndjson(text))
    except (ValidationError, ValueError, KeyError) as exc:
        raise CommandError(f"{path} is not an audit export: {exc}", ExitCode.DATA_ERROR) from None


def _from_ndjson(text: str) -> Iterator[AuditEntry]:
    for line in text.splitlines():
        if line.strip():
            yield AuditEntry.model_validate_json(line)


def _from_csv(text: str) -> Iterator[AuditEntry]:
    for row in csv.DictReader(io.StringIO(text)):
        doc: dict[str, Any] = dict(row)
        doc["seq"] = int(row["seq"])
        doc["counterparts"] = row["counterparts"].split()
        doc["detail"] = orjson.loads(row["detail"])
        doc["alert_id"] = row["alert_id"] or None
        yield AuditEntry.model_validate_json(orjson.dumps(doc))


def verify(path: Path) -> tuple[int, Broken | None]:
    """How many entries the export holds, and where its chain breaks (None: it holds)."""
    entries = read(path)
    if not entries:
        return 0, None
    start = (entries[0].seq, entries[0].prev)
    return len(entries), broken(entries, start=start)
