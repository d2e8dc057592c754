"""Demo traffic: a poster that plays the demo's alerts (cli/demo/alerts.py) against a
running gateway, so a live demo has something to show.

    run_demo()       POST the file, the list (one batch), outcomes on some of the file's
                     alerts (cli/demo/outcomes.py), then generated traffic
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable

import httpx
from tenacity import AsyncRetrying

from cli.demo.alerts import Body, demo_list, generate, load_demo
from cli.demo.outcomes import report_outcomes
from hotline.credentials import DEMO_PARTNER_PREFIX
from hotline.retry import GATEWAY_BUSY, RetryLater, partner_policy, raise_for_retry_later

# --- playing it against a gateway -------------------------------------------------------------

_MAX_ATTEMPTS = 8


class _Stopped(Exception):
    """`stop` was set during a wait between retries."""


async def _sleep(seconds: float, stop: asyncio.Event) -> bool:
    """Sleep, but wake as soon as `stop` is set; True when stopped."""
    if stop.is_set():
        return True
    if seconds <= 0:
        await asyncio.sleep(0)
        return stop.is_set()
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True


async def _wait_ready(
    http: httpx.AsyncClient,
    base: str,
    within_s: float,
    stop: asyncio.Event,
    log: Callable[[str], None],
) -> bool:
    # A deadline rather than asyncio.timeout(): `stop` must also end the wait, quietly.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    logged = False
    while True:
        try:
            if (await http.get(f"{base}/readyz")).status_code == 200:
                return True
        except httpx.TransportError:
            pass  # not listening yet: that is what we are waiting for
        if loop.time() >= deadline:
            raise TimeoutError(f"{base}/readyz did not answer 200 within {within_s:g} s")
        if not logged:
            log(f"waiting for {base}/readyz …")
            logged = True
        if await _sleep(0.5, stop):
            return False


async def _post(
    http: httpx.AsyncClient,
    base: str,
    sender: str,
    body: Body,
    stop: asyncio.Event,
    log: Callable[[str], None],
) -> str | None:
    """The alert's id once accepted (2xx), else None."""
    msg = "" if body.get("msg_type", "alert") == "alert" else f" ({body['msg_type']})"
    label = f"{sender} → {body.get('kind')}{msg} {body.get('source_ref')}"
    headers = {"Authorization": f"Bearer {DEMO_PARTNER_PREFIX}{sender}"}

    async def send() -> httpx.Response:
        resp = await http.post(f"{base}/v1/alerts", json=body, headers=headers)
        return raise_for_retry_later(resp)

    resp, attempts = await _retried(send, stop)
    if not isinstance(resp, httpx.Response):
        if isinstance(resp, RetryLater):
            outcome = str(resp.status_code)
        else:
            outcome = "stopped" if isinstance(resp, _Stopped) else type(resp).__name__
        log(f"{label} {outcome}, not accepted after {attempts} attempts")
        return None
    retries = attempts - 1
    detail = "" if resp.is_success else f" {resp.text[:100]}"
    log(f"{label} {resp.status_code}{f' (after {retries} retries)' if retries else ''}{detail}")
    if not resp.is_success:
        return None
    try:
        return str(resp.json()["alert_id"])
    except (ValueError, KeyError, TypeError):
        return ""  # accepted, though its answer names no id: counted, not reported on


async def _retried(
    send: Callable[[], Awaitable[httpx.Response]], stop: asyncio.Event
) -> tuple[httpx.Response | Exception, int]:
    """The answer, or what ended the tries, and how many were made. A gateway restarting
    mid-demo should pause the show, not end it."""

    async def wait_or_stop(seconds: float) -> None:
        if await _sleep(seconds, stop):
            raise _Stopped

    retrying = AsyncRetrying(sleep=wait_or_stop, **partner_policy(_MAX_ATTEMPTS, 10.0))
    try:
        resp: httpx.Response = await retrying(send)
    except (*GATEWAY_BUSY, _Stopped) as exc:
        return exc, retrying.statistics.get("attempt_number", 1)
    return resp, retrying.statistics.get("attempt_number", 1)


async def _post_list(
    http: httpx.AsyncClient,
    base: str,
    run_id: str,
    stop: asyncio.Event,
    log: Callable[[str], None],
) -> int:
    """The demo list as one batch; how many of its items were accepted."""
    sender, import_id, items = demo_list(run_id)
    headers = {"Authorization": f"Bearer {DEMO_PARTNER_PREFIX}{sender}"}

    async def send() -> httpx.Response:
        resp = await http.post(
            f"{base}/v1/alerts/batch", json=items, headers=headers, params={"import_id": import_id}
        )
        return raise_for_retry_later(resp)

    label = f"{sender} → list {import_id} ({len(items)} numbers)"
    resp, _ = await _retried(send, stop)
    if not isinstance(resp, httpx.Response):
        log(f"{label} not accepted: {type(resp).__name__}")
        return 0
    if resp.status_code != 200:
        log(f"{label} {resp.status_code} {resp.text[:100]}")
        return 0
    result = resp.json()
    log(f"{label} {result['accepted']} accepted, {result['rejected']} rejected")
    return int(result["accepted"])


async def run_demo(
    base_url: str,
    *,
    rate: float = 0.5,
    stop: asyncio.Event | None = None,
    loop_forever: bool = True,
    log: Callable[[str], None] = print,
    client: httpx.AsyncClient | None = None,
    pause: float = 1.0,
    ready_timeout: float = 60.0,
    rng: random.Random | None = None,
) -> int:
    """Post the demo file in order, the demo list, outcomes on some of the file's alerts, then
    (if `loop_forever`) generated traffic at `rate` alerts/s until `stop` is set. Returns how
    many alerts the gateway accepted (2xx)."""
    if loop_forever and rate <= 0:
        raise ValueError("rate must be positive")
    stop = stop if stop is not None else asyncio.Event()
    base = base_url.rstrip("/")
    http = client if client is not None else httpx.AsyncClient(timeout=10.0)
    accepted = 0
    try:
        if not await _wait_ready(http, base, ready_timeout, stop, log):
            return accepted
        posted: list[tuple[str, str, str]] = []  # (alert id, sender, kind) of new alerts
        for sender, body in load_demo():
            if stop.is_set():
                return accepted
            alert_id = await _post(http, base, sender, body, stop, log)
            if alert_id is not None:
                accepted += 1
                if alert_id and body.get("msg_type", "alert") == "alert":
                    posted.append((alert_id, sender, str(body.get("kind"))))
            # ~1 s apart so a viewer sees each alert arrive on the consoles.
            if await _sleep(pause, stop):
                return accepted
        # A run id, as generate() uses: a restarted demo's list is a list of its own.
        run_id = secrets.token_hex(3)
        accepted += await _post_list(http, base, run_id, stop, log)
        await report_outcomes(http, base, posted, stop, log)
        if not loop_forever or await _sleep(pause, stop):
            return accepted
        # Not for secrets: only which fictional alert to invent next.
        gen_rng = rng if rng is not None else random.Random()  # noqa: S311
        for sender, body in generate(gen_rng, 10**9, run_id=run_id):
            if stop.is_set():
                break
            accepted += await _post(http, base, sender, body, stop, log) is not None
            if await _sleep(1.0 / rate, stop):
                break
        return accepted
    finally:
        if client is None:
            await http.aclose()
