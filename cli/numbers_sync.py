"""`hotline numbers sync`: a local blocklist file kept current from the hotline's feed.

The file holds one E.164 number per line, sorted: every scam number shared with the caller
that some alert still reports (not cancelled or rejected). Beside it, `<file>.sync.json` keeps
the feed's cursor and which alerts report each number, so the next run asks only for what
changed since. Both are replaced whole (written aside, then renamed), and only once the feed
is caught up: an interrupted run leaves the last complete pair, and the next one continues
from its cursor.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.progress import Progress, SpinnerColumn, TextColumn
from tenacity import Retrying

from cli.exits import CommandError, ExitCode
from hotline.retry import RetryLater, partner_policy, raise_for_retry_later

PAGE = 5000
MAX_WAIT_S = 15.0


class Blocklist:
    """number -> the alerts that report it now; and where in the feed that is."""

    def __init__(self, cursor: str | None = None, numbers: dict[str, set[str]] | None = None):
        self.cursor = cursor
        self.numbers = numbers or {}

    def apply(self, change: dict[str, Any]) -> None:
        ids = self.numbers.setdefault(change["number"], set())
        if change["active"]:
            ids.add(change["alert_id"])
        else:
            ids.discard(change["alert_id"])
        if not ids:
            del self.numbers[change["number"]]

    @classmethod
    def load(cls, state: Path) -> Blocklist:
        if not state.exists():
            return cls()
        try:
            doc = orjson.loads(state.read_bytes())
            return cls(doc["cursor"], {n: set(ids) for n, ids in doc["numbers"].items()})
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise CommandError(
                f"{state} is not a sync state this command wrote; move it away to start over",
                ExitCode.DATA_ERROR,
            ) from None

    def save(self, out: Path, state: Path) -> None:
        _replace(out, "".join(f"{n}\n" for n in sorted(self.numbers)).encode())
        doc = {"cursor": self.cursor, "numbers": {n: sorted(i) for n, i in self.numbers.items()}}
        _replace(state, orjson.dumps(doc))


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def state_path(out: Path) -> Path:
    return out.with_name(out.name + ".sync.json")


def sync(
    url: str,
    key: str,
    out: Path,
    *,
    follow: bool = False,
    every: float = 10.0,
    attempts: int = 10,
    note: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> Blocklist:
    """Catches `out` up with the feed (and, with `follow`, keeps it so every `every` s)."""
    state = state_path(out)
    blocklist = Blocklist.load(state)
    retry = _retrying(attempts, note, sleep)
    with (
        httpx.Client(timeout=60) as client,
        Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as progress,
    ):
        task = progress.add_task("reading the feed")
        while True:
            changes = 0
            while True:
                page = retry(_page, client, url, key, blocklist.cursor)
                for change in page["changes"]:
                    blocklist.apply(change)
                changes += len(page["changes"])
                blocklist.cursor = page["next"]
                progress.update(
                    task,
                    description=f"{changes:,} changes read, {len(blocklist.numbers):,} numbers",
                )
                if not page["more"]:
                    break
            blocklist.save(out, state)
            note(f"{out}: {len(blocklist.numbers):,} numbers ({changes:,} changes read)")
            if not follow:
                return blocklist
            sleep(every)


def _page(client: httpx.Client, url: str, key: str, cursor: str | None) -> dict[str, Any]:
    params: dict[str, str | int] = {"limit": PAGE}
    if cursor:
        params["after"] = cursor
    r = client.get(
        f"{url}/v1/numbers/changes",
        params=params,
        headers={"Authorization": f"Bearer {key}", "Accept": "application/x-ndjson"},
    )
    raise_for_retry_later(r)
    if r.status_code == 401:
        raise CommandError("the gateway refused the key", ExitCode.NO_PERMISSION)
    if r.status_code != 200:
        raise CommandError(f"the gateway answered HTTP {r.status_code}: {r.text[:200]}")
    lines = [orjson.loads(line) for line in r.content.splitlines() if line.strip()]
    if not lines or "next" not in lines[-1]:
        raise CommandError("the gateway's answer ended before its last line")
    return {"changes": lines[:-1], "next": lines[-1]["next"], "more": lines[-1]["more"]}


def _retrying(attempts: int, note: Callable[[str], None], sleep: Callable[[float], None]) -> Any:
    def run(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        try:
            for attempt in Retrying(sleep=sleep, **partner_policy(attempts, MAX_WAIT_S, note)):
                with attempt:
                    return fn(*args)
        except httpx.TransportError as exc:
            raise CommandError(
                f"cannot reach the gateway at {args[1]}: {exc}", ExitCode.UNAVAILABLE
            ) from None
        except RetryLater as exc:
            raise CommandError(f"the gateway kept answering {exc}", ExitCode.TEMPORARY) from None
        raise AssertionError("unreachable")

    return run
