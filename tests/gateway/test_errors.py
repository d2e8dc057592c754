"""The one error handler: every HotlineError becomes its status and JSON body, and a retriable
one always says when to come back."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from cli.kafka_jars import BrokerError
from gateway import errors
from hotline import errors as e

ALL = [
    e.ConfigError,
    e.Unauthorized,
    e.NotFound,
    e.Forbidden,
    e.Conflict,
    e.InvalidAlert,
    e.InvalidOutcome,
    e.PayloadTooLarge,
    e.RateLimited,
    e.UnwritableRecord,
    e.KafkaUnavailable,
    e.IntakeUnavailable,
    e.InvalidQuery,
    e.RegistryUnavailable,
]


def _subclasses(cls: type) -> set[type]:
    return {s for c in cls.__subclasses__() for s in {c, *_subclasses(c)}}


def test_the_list_above_is_the_whole_tree_and_it_has_one_root() -> None:
    assert _subclasses(e.HotlineError) >= {*ALL, BrokerError}
    assert {c for c in _subclasses(e.HotlineError) if c.__module__ == "hotline.errors"} == set(ALL)


async def _answer(exc: e.HotlineError) -> httpx.Response:
    app = FastAPI()
    errors.install(app)

    @app.get("/fail")
    async def fail() -> None:
        raise exc

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.get("/fail")


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
async def test_each_error_answers_its_status_and_body(cls: type[e.HotlineError]) -> None:
    r = await _answer(cls("what happened"))
    assert r.status_code == cls.status_code
    body = r.json()
    assert body["error"] == cls.code and body["detail"] == "what happened"
    if cls.retriable:
        # Even when the raiser named no wait: the API document promises the header on 429/503.
        assert int(r.headers["retry-after"]) == body["retry_after"] == cls.retry_after_s
    else:
        assert "retry-after" not in r.headers and "retry_after" not in body


async def test_a_named_wait_is_the_one_sent() -> None:
    r = await _answer(e.RateLimited("slow down", retry_after=7))
    assert r.status_code == 429
    assert r.headers["retry-after"] == "7" and r.json()["retry_after"] == 7


def test_retriable_is_exactly_the_statuses_that_promise_retry_after() -> None:
    for cls in ALL:
        assert cls.retriable == (cls.status_code in (429, 503)), cls.__name__
