"""Headless-Chromium helpers for the console tests: launch, sign in, watch the socket, find rows.

Debian's Chromium is used (Playwright's own browser download is not available here); Playwright
only drives it over CDP.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    ViewportSize,
    WebSocket,
)

from .stack import Stack

CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root in a container
    "--disable-gpu",
    "--disable-dev-shm-usage",  # small /dev/shm in containers
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
# Each officer's machine in its own zone, as on duty (the console shows times in the local zone).
ZONES = {
    "vn-hanoi": "Asia/Ho_Chi_Minh",
    "cn-beijing": "Asia/Shanghai",
    "ru-moscow": "Europe/Moscow",
}


async def launch(pw: Playwright) -> Browser:
    if not os.access(CHROMIUM, os.X_OK):
        # Never `playwright install`: its download is unavailable here; use Debian's package.
        raise RuntimeError(f"{CHROMIUM} missing: run `scripts/setup --browser` (apt chromium)")
    return await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


@dataclass
class Officer:
    """One duty officer: a browser context of their own (like their own machine) and one tab."""

    agency: str
    context: BrowserContext
    page: Page
    # Every JSON message the page received, over every socket it opened, in order.
    frames: list[dict[str, Any]] = field(default_factory=list)
    sockets: list[WebSocket] = field(default_factory=list)
    _replays_before: int = 0

    def _on_socket(self, ws: WebSocket) -> None:
        if not ws.url.endswith("/v1/console/ws"):
            return
        self.sockets.append(ws)
        ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload: str | bytes) -> None:
        with contextlib.suppress(orjson.JSONDecodeError):
            msg = orjson.loads(payload)
            if isinstance(msg, dict):
                self.frames.append(msg)

    # --- what arrived ----------------------------------------------------------------------

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        return [
            m
            for m in self.frames
            if m.get("type") == "alert" and (event is None or m.get("event") == event)
        ]

    def repeated_event_ids(self, event: str | None = None) -> list[str]:
        """Event ids that arrived more than once (over all sockets): a replay must never repeat."""
        counts = Counter(str(m.get("event_id")) for m in self.events(event))
        return sorted(k for k, n in counts.items() if n > 1)

    def replayed_alert_ids(self, socket: int) -> set[str]:
        """Alert ids of the backlog the `socket`-th signed-in connection (0-based) received."""
        out: set[str] = set()
        welcomes = -1
        in_backlog = False
        for m in self.frames:
            kind = m.get("type")
            if kind == "welcome":
                welcomes += 1
                in_backlog = welcomes == socket
            elif kind == "replay_done":
                in_backlog = False
            elif kind == "alert" and in_backlog:
                out.add(str(m.get("alert_id")))
        return out

    def count(self, msg_type: str) -> int:
        return sum(1 for m in self.frames if m.get("type") == msg_type)

    async def wait_frames(self, msg_type: str, at_least: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count(msg_type) < at_least:
            assert time.monotonic() < deadline, f"{self.agency}: no {msg_type} #{at_least}"
            await asyncio.sleep(0.05)

    # --- the page ----------------------------------------------------------------------------

    async def sign_in(self, token: str) -> None:
        self._replays_before = self.count("replay_done")
        await self.page.fill("#token", token)
        await self.page.click("#signin")

    async def wait_state(self, state: str, timeout: float = 10.0) -> None:
        await self.page.wait_for_selector(
            f'#conn[data-state="{state}"]', state="attached", timeout=timeout * 1000
        )

    async def wait_signed_in(self, timeout: float = 15.0) -> None:
        """Connected and caught up (the backlog ends with `replay_done`) after `sign_in`."""
        await self.wait_state("connected", timeout)
        await self.wait_frames("replay_done", self._replays_before + 1, timeout)

    def row(self, alert_id: str, **attrs: str) -> Locator:
        return self.page.locator(row_selector(alert_id, **attrs))

    async def wait_row(self, alert_id: str, timeout: float = 10.0, **attrs: str) -> Locator:
        loc = self.row(alert_id, **attrs)
        await loc.wait_for(state="attached", timeout=timeout * 1000)
        return loc

    async def selected_alert_id(self) -> str | None:
        selected = await self.page.evaluate(
            "document.querySelector('#incoming li.alert-row.selected')?.dataset.alertId ?? null"
        )
        return None if selected is None else str(selected)

    async def incoming_ids(self) -> list[str]:
        return list(
            await self.page.evaluate(
                "[...document.querySelectorAll('#incoming li.alert-row')]"
                ".map((li) => li.dataset.alertId)"
            )
        )

    async def select_with_keys(self, alert_id: str) -> None:
        """Move the selection to `alert_id` with ↓/↑ only, as an officer at the keyboard would.

        Re-reads the list after every key press: a late event (an escalation of another case)
        may reorder the rows meanwhile.
        """
        await self.page.focus("#incoming")
        for _ in range(100):
            ids = await self.incoming_ids()
            current = await self.selected_alert_id()
            if current == alert_id:
                return
            if current not in ids:
                key = "ArrowDown"  # nothing selected yet: ↓ selects the first row
            else:
                key = "ArrowDown" if ids.index(alert_id) > ids.index(current) else "ArrowUp"
            await self.page.keyboard.press(key)
        raise AssertionError(f"could not select {alert_id} with the arrow keys")

    async def rows_of(self, alert_id: str) -> int:
        return await self.row(alert_id).count()

    async def seen_event_ids(self) -> list[str]:
        return list(await self.page.evaluate("[...window.hotline.seenEventIds]"))

    async def close(self) -> None:
        await self.context.close()


def row_selector(alert_id: str, **attrs: str) -> str:
    """`li.alert-row[data-alert-id=…]` plus data attributes given as keyword arguments."""
    extra = "".join(f'[data-{k.replace("_", "-")}="{v}"]' for k, v in attrs.items())
    return f'#incoming li.alert-row[data-alert-id="{alert_id}"]{extra}'


def receipt_selector(alert_id: str, agency: str, state: str) -> str:
    return (
        f'#sent li.sent-row[data-alert-id="{alert_id}"] '
        f'.receipt[data-agency="{agency}"][data-state="{state}"]'
    )


@contextlib.asynccontextmanager
async def officer(
    browser: Browser, stack: Stack, agency: str, token: str | None = None, sign_in: bool = True
) -> AsyncIterator[Officer]:
    """A fresh context (own storage, own network state) with the console open and signed in."""
    # English UI whatever the host's locale: the tests use hooks, but screenshots are read by us.
    context = await browser.new_context(
        viewport=VIEWPORT, locale="en-US", timezone_id=ZONES.get(agency, "UTC")
    )
    try:
        page = await context.new_page()
        o = Officer(agency, context, page)
        page.on("websocket", o._on_socket)
        await page.goto(f"{stack.url}/")
        await page.wait_for_selector("#signin-form", state="visible", timeout=20_000)
        if sign_in:
            await o.sign_in(token or f"demo-officer-{agency}")
            await o.wait_signed_in()
        yield o
    finally:
        await context.close()


async def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    await page.screenshot(path=str(path), animations="disabled")
    return path


# --- alerts ------------------------------------------------------------------------------------

_LETTERS = "bcdfghklmnpqrstvxy"
_VOWELS = "aeiou"


def _word(n: int, syllables: int = 3) -> str:
    """A made-up name word from a number, so no two test alerts have names that match."""
    out = []
    for _ in range(syllables):
        n, c = divmod(n, len(_LETTERS))
        n, v = divmod(n, len(_VOWELS))
        out.append(_LETTERS[c] + _VOWELS[v])
    return "".join(out).capitalize()


def wanted(
    recipients: list[str], urgency: str = "expected", severity: str = "severe", title: str = ""
) -> dict[str, Any]:
    """A wanted-person alert whose document, name and birth date are unique to it."""
    n = uuid.uuid4().int
    name = f"Nguyễn {_word(n)} {_word(n >> 40)}"
    return {
        "source_ref": f"HN-B-{n % 10**12}",
        "kind": "wanted_person",
        "severity": severity,
        "urgency": urgency,
        "tlp": "amber",
        "recipients": recipients,
        "language": "vi",
        "title": title or f"Truy nã: {name}",
        "description": "Đối tượng lừa đảo qua mạng, có thể đã xuất cảnh.",
        "subject": {
            "full_name": name,
            "date_of_birth": f"{1940 + n % 60}-{1 + (n >> 8) % 12:02d}-{1 + (n >> 16) % 28:02d}",
            "nationality": "VN",
            "documents": [
                {"type": "passport", "number": f"C{(n >> 24) % 10**7:07d}", "country": "VN"}
            ],
            "offences": ["fraud"],
        },
    }


def scam_number(recipients: list[str]) -> dict[str, Any]:
    n = uuid.uuid4().int
    return {
        "source_ref": f"HN-SDT-{n % 10**12}",
        "kind": "scam_number",
        "severity": "moderate",
        "urgency": "expected",
        "tlp": "green",
        "recipients": recipients,
        "language": "vi",
        "title": "Số điện thoại giả danh ngân hàng",
        "subject": {
            "number": f"0965 {n % 1000:03d} {(n >> 12) % 1000:03d}",
            "scam_type": "impersonation",
            "first_seen": "2026-11-28",
            "reports": 7 + n % 40,
        },
    }


def fraud_pattern(recipients: list[str]) -> dict[str, Any]:
    n = uuid.uuid4().int
    return {
        "source_ref": f"HN-LD-{n % 10**12}",
        "kind": "fraud_pattern",
        "severity": "minor",
        "urgency": "future",
        "tlp": "amber",
        "recipients": recipients,
        "language": "vi",
        "title": "Lừa đảo đầu tư qua ứng dụng giả",
        "subject": {
            "scheme": "investment",
            "modus_operandi": "Fake trading app promising daily returns.",
            "indicators": {
                "urls": [f"https://invest-{n % 10**9}.example/app"],
                "app_names": [f"Gold {_word(n, 2)}"],
            },
            "losses": {"amount": 250_000_000 + n % 10**8, "currency": "VND"},
            "victims": 3 + n % 50,
        },
    }


async def post(stack: Stack, sender: str, body: dict[str, Any]) -> str:
    r = await asyncio.to_thread(stack.post, sender, body)
    assert r.status_code == 202, r.text
    return str(r.json()["alert_id"])
