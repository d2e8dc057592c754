"""`hotline lookup`: ask the hotline whether anyone shared a number, a document or a person,
and print the matches the caller may see as a table."""

from __future__ import annotations

from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from cli.exits import CommandError, ExitCode


def fetch(url: str, key: str, params: dict[str, str]) -> dict[str, Any]:
    """GET /v1/lookup; CommandError with the gateway's own words for what it refused."""
    try:
        r = httpx.get(
            f"{url}/v1/lookup",
            params=params,
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
    except httpx.HTTPError as exc:
        raise CommandError(
            f"cannot reach the gateway at {url}: {exc}", ExitCode.UNAVAILABLE
        ) from None
    if r.status_code == 200:
        answer: dict[str, Any] = r.json()
        return answer
    detail = _detail(r)
    if r.status_code == 401:
        raise CommandError(f"the gateway refused the key: {detail}", ExitCode.NO_PERMISSION)
    if r.status_code == 422:
        raise CommandError(detail, ExitCode.USAGE)
    if r.status_code in (429, 503):
        raise CommandError(f"{detail} (HTTP {r.status_code})", ExitCode.TEMPORARY)
    raise CommandError(f"the gateway answered HTTP {r.status_code}: {detail}")


def _detail(r: httpx.Response) -> str:
    try:
        return str(r.json().get("detail") or r.text)
    except ValueError:
        return r.text[:200]


def render(answer: dict[str, Any], console: Console) -> None:
    query = ", ".join(f"{k}={v}" for k, v in answer["query"].items() if k != "kind" and v)
    matches = answer["matches"]
    if not matches:
        console.print(f"No match shared with you for {answer['query']['kind']} {query}.")
        return
    table = Table(title=f"{answer['query']['kind']} {query}: {len(matches)} match(es)")
    for column in ("case", "kind", "state", "reporters", "reports", "first", "last", "alerts"):
        table.add_column(column)
    for m in matches:
        alerts = "\n".join(
            f"{a['alert_id']} {a['sender']} {a['tlp'] or '(follow-up)'}: {a['title']}"
            for a in m["alerts"]
        )
        table.add_row(
            m["case_id"],
            m["kind"],
            m["state"],
            ", ".join(m["reporters"]),
            str(m["reports"]),
            m["first_reported_at"][:19],
            m["last_reported_at"][:19],
            alerts,
        )
    console.print(table)
