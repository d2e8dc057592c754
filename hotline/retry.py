"""How the hotline waits before trying again: one policy family, built on tenacity.

Every retry loop (Kafka writes in the worker, topic creation, the gateway's connection to
Kafka, `hotline import` and the demo's posts) waits through these, so every one backs off
exponentially *with jitter*: processes restarted together, or many importers told "busy" at
the same moment, must not come back in lock-step and knock a recovering broker or gateway
over again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential, wait_random_exponential

# Statuses that mean "the request was fine, ask again later" (rate limit, Kafka unavailable).
RETRY_LATER_STATUSES = frozenset({429, 503})
# A Retry-After further away than this is taken as this: a client should look again rather
# than sleep for an hour on one header.
MAX_RETRY_AFTER_S = 60.0
# Added on top of Retry-After, as a share of it: clients told the same time spread out.
RETRY_AFTER_JITTER = 0.1


def backoff(first: float, cap: float) -> wait_base:
    """Exponential backoff with "equal jitter": the n-th wait is drawn from [d/2, d] with
    d = min(first * 2**(n-1), cap), so it never collapses to zero yet two clients that failed
    together drift apart."""
    return wait_exponential(multiplier=first / 2, max=cap / 2) + wait_random_exponential(
        multiplier=first / 2, max=cap / 2
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), at most
    MAX_RETRY_AFTER_S; None when absent or unreadable. A date in the past means now."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN: as unreadable as text
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


class RetryLater(Exception):
    """A 429 or 503 answer: the server took nothing and asks to be asked again."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code} {response.reason_phrase}".strip())
        self.response = response
        self.status_code = response.status_code
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))


def raise_for_retry_later(response: httpx.Response) -> httpx.Response:
    if response.status_code in RETRY_LATER_STATUSES:
        raise RetryLater(response)
    return response


class wait_retry_after(wait_base):  # lower case, like tenacity's own wait strategies
    """The server's Retry-After when the last attempt got one (never less, a little more so
    that clients told the same time spread out), else `otherwise`."""

    def __init__(self, otherwise: wait_base) -> None:
        self.otherwise = otherwise

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None and outcome.failed else None
        if isinstance(exc, RetryLater) and exc.retry_after is not None:
            # Not for secrets: only when to knock again.
            spread = random.uniform(0, RETRY_AFTER_JITTER)  # noqa: S311
            return exc.retry_after * (1 + spread)
        return float(self.otherwise(retry_state))


def next_wait(retry_state: RetryCallState) -> float:
    """The wait tenacity chose before this retry (for a before_sleep log line)."""
    action = retry_state.next_action
    return float(action.sleep) if action is not None else 0.0


# What a partner client (cli/importer.py, `hotline numbers sync`, the demo) asks again: the
# gateway unreachable, or answering 429/503.
GATEWAY_BUSY = (httpx.TransportError, RetryLater)


def partner_policy(
    attempts: int, max_wait: float, note: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """A partner client's retries against the gateway, as tenacity's `Retrying` (or
    `AsyncRetrying`) arguments, its `sleep` left to the caller: the gateway's Retry-After,
    else backoff from 0.5 s up to `max_wait`; `note`: told of each retry."""

    def before_sleep(state: RetryCallState) -> None:
        assert note is not None
        exc = state.outcome.exception() if state.outcome is not None else None
        what = str(exc) if isinstance(exc, RetryLater) else f"{type(exc).__name__}: {exc}"
        note(f"gateway: {what}; retrying in {next_wait(state):.1f} s")

    policy: dict[str, Any] = {
        "retry": retry_if_exception_type(GATEWAY_BUSY),
        "wait": wait_retry_after(backoff(0.5, max_wait)),
        "stop": stop_after_attempt(attempts),
        "reraise": True,
    }
    if note is not None:
        policy["before_sleep"] = before_sleep
    return policy
