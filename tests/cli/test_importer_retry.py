"""`hotline import` against a fake gateway: what it retries, how long it waits, when it stops."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from cli.exits import CommandError, ExitCode
from cli.importer import run_import

BASE = "http://gateway.test"
Handler = Callable[[httpx.Request], httpx.Response]


def accepted(request: httpx.Request) -> httpx.Response:
    items = [line for line in request.content.split(b"\n") if line]
    body = {
        "accepted": len(items),
        "rejected": 0,
        "items": [{"index": i, "status": 202} for i in range(len(items))],
    }
    return httpx.Response(200, content=orjson.dumps(body))


def scripted(*first: Handler) -> tuple[Handler, list[httpx.Request]]:
    """Answers with `first` in turn, then accepts everything."""
    seen: list[httpx.Request] = []
    queue: Iterator[Handler] = iter(first)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(queue, accepted)(request)

    return handle, seen


def status(code: int, **headers: str) -> Handler:
    return lambda request: httpx.Response(code, headers=headers)


def refuse_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("Connection refused", request=request)


@pytest.fixture
def numbers(tmp_path: Path) -> Path:
    path = tmp_path / "numbers.ndjson"
    path.write_text("".join(f'{{"number": "+84 90 123 {i:04d}"}}\n' for i in range(3)))
    return path


def run(path: Path, handler: Handler, sleeps: list[float], **kwargs: int) -> int:
    return run_import(
        path,
        url=BASE,
        key="demo-partner-vn-hanoi",
        sleep=sleeps.append,  # recorded, never slept
        transport=httpx.MockTransport(handler),
        **kwargs,
    )


def test_503_with_retry_after_is_waited_out_then_sent_again(numbers: Path) -> None:
    handler, seen = scripted(status(503, **{"Retry-After": "7"}))
    sleeps: list[float] = []
    assert run(numbers, handler, sleeps) == ExitCode.OK
    assert len(seen) == 2 and seen[0].content == seen[1].content  # the same batch, again
    assert len(sleeps) == 1
    # Never sooner than asked; a little later, so importers told the same time spread out.
    assert 7.0 <= sleeps[0] <= 7.0 * 1.1


def test_429_with_an_http_date_retry_after_in_the_past_is_retried_at_once(numbers: Path) -> None:
    handler, seen = scripted(status(429, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    sleeps: list[float] = []
    assert run(numbers, handler, sleeps) == ExitCode.OK
    assert len(seen) == 2 and sleeps == [0.0]


def test_transport_errors_back_off_with_jitter(numbers: Path) -> None:
    handler, seen = scripted(*[refuse_connection] * 4)
    sleeps: list[float] = []
    assert run(numbers, handler, sleeps) == ExitCode.OK
    assert len(seen) == 5 and len(sleeps) == 4
    # Exponential from 0.5 s, each wait drawn from the upper half of its step.
    for n, wait in enumerate(sleeps):
        step = 0.5 * 2**n
        assert step / 2 <= wait <= step, (n, wait)


def test_busy_throughout_gives_up_after_the_attempts(numbers: Path) -> None:
    handler, seen = scripted(*[status(503, **{"Retry-After": "1"})] * 10)
    sleeps: list[float] = []
    with pytest.raises(CommandError) as raised:
        run(numbers, handler, sleeps, attempts=4)
    assert raised.value.code == ExitCode.TEMPORARY
    assert "503" in raised.value.message and "after 4 attempts" in raised.value.message
    assert len(seen) == 4 and len(sleeps) == 3


def test_gateway_down_throughout_is_unavailable(numbers: Path) -> None:
    handler, seen = scripted(*[refuse_connection] * 10)
    with pytest.raises(CommandError) as raised:
        run(numbers, handler, [], attempts=3)
    assert raised.value.code == ExitCode.UNAVAILABLE
    assert raised.value.message.startswith(f"cannot reach the gateway at {BASE}")
    assert len(seen) == 3


def test_a_refused_key_is_not_retried(numbers: Path) -> None:
    handler, seen = scripted(status(401))
    sleeps: list[float] = []
    with pytest.raises(CommandError) as raised:
        run(numbers, handler, sleeps)
    assert raised.value.code == ExitCode.NO_PERMISSION
    assert len(seen) == 1 and sleeps == []


def test_some_items_rejected_is_its_own_exit_code(numbers: Path) -> None:
    def one_rejected(request: httpx.Request) -> httpx.Response:
        items = [{"index": 0, "status": 422, "errors": [{"field": "subject.number"}]}]
        items += [{"index": i, "status": 202} for i in (1, 2)]
        body = {"accepted": 2, "rejected": 1, "items": items}
        return httpx.Response(200, content=orjson.dumps(body))

    assert run(numbers, one_rejected, []) == ExitCode.REJECTED == 3


def test_every_batch_of_a_file_names_the_same_list(numbers: Path, tmp_path: Path) -> None:
    """Recipients see one list per file (its digest), however many batches it took."""
    handler, seen = scripted()
    assert run(numbers, handler, [], batch=1) == ExitCode.OK
    ids = {r.url.params["import_id"] for r in seen}
    assert len(seen) == 3 and len(ids) == 1
    (name,) = ids
    assert name.startswith("numbers-")  # the file it came from
    # the same file, sent again, is the same list; another file another one
    again, seen_again = scripted()
    run(numbers, again, [])
    assert {r.url.params["import_id"] for r in seen_again} == ids
    other = tmp_path / "другой список (2).csv"
    other.write_text("number\n+84 90 123 9999\n")
    third, seen_third = scripted()
    run(other, third, [])
    (other_name,) = {r.url.params["import_id"] for r in seen_third}
    assert other_name != name and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", other_name)
