"""`hotline import`: a scam-number list (CSV or NDJSON) posted through the bulk lane.

Source refs are derived from the file's content and line number, so importing the same file
twice is recognised as a retry instead of doubling a million alerts.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

MAX_RETRIES = 10


def _file_tag(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:10]


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


def read_alerts(path: Path) -> Iterator[dict[str, Any]]:
    tag = f"IMP-{_file_tag(path)}"
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            column = "number" if reader.fieldnames and "number" in reader.fieldnames else None
            for line_no, row in enumerate(reader, start=2):
                number = row.get(column) if column else next(iter(row.values()), "")
                yield scam_alert(str(number or "").strip(), f"{tag}-{line_no}", row)
        return
    with path.open("rb") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            doc = orjson.loads(line)
            if isinstance(doc, dict) and "kind" in doc:
                yield doc  # a full alert body: its own source_ref
            elif isinstance(doc, dict):
                yield scam_alert(str(doc.get("number", "")), f"{tag}-{line_no}", doc)
            else:
                yield scam_alert(str(doc), f"{tag}-{line_no}", {})


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        n = sum(1 for line in f if line.strip())
    return n - 1 if path.suffix.lower() == ".csv" else n


def _post(client: httpx.Client, key: str, chunk: list[dict[str, Any]]) -> dict[str, Any]:
    body = b"\n".join(orjson.dumps(a) for a in chunk)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    for _ in range(MAX_RETRIES):
        r = client.post("/v1/alerts/batch", content=body, headers=headers)
        if r.status_code in (429, 503):
            time.sleep(float(r.headers.get("retry-after", "1")))
            continue
        if r.status_code != 200:
            raise SystemExit(f"import refused: {r.status_code} {r.text[:500]}")
        result: dict[str, Any] = r.json()
        return result
    raise SystemExit("import stopped: the gateway kept answering 'retry later'")


def run_import(path: Path, *, url: str, key: str, batch: int = 5000) -> int:
    total = _count_lines(path)
    accepted = rejected = 0
    shown = 0
    alerts = read_alerts(path)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.0f}/s"),
        TimeRemainingColumn(),
    )
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=120.0) as client, Progress(*columns) as progress:
        task = progress.add_task(f"Importing {path.name}", total=total, rate=0.0)
        offset = 0
        while chunk := list(islice(alerts, batch)):
            result = _post(client, key, chunk)
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
    print(f"{accepted} accepted, {rejected} rejected")
    return 0 if rejected == 0 else 2
