"""intake.accept and the routes around it, without Kafka: what a partner's body turns into."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway import intake
from gateway.main import create_app
from hotline.errors import InvalidAlert, KafkaUnavailable
from hotline.settings import Settings
from hotline.topics import partition_for, topics

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SENDER = "vn-hanoi"


def scam(ref: str = "HN-T-1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source_ref": ref,
        "kind": "scam_number",
        "severity": "moderate",
        "urgency": "expected",
        "tlp": "green",
        "language": "vi",
        "title": "Số điện thoại giả danh nhân viên giao hàng",
        "subject": {"number": "0971 000 245", "scam_type": "delivery", "reports": 2},
    }
    body.update(extra)
    return body


def nested(depth: int) -> dict[str, Any]:
    inner: dict[str, Any] = {}
    outer = inner
    for _ in range(depth - 1):
        inner["a"] = {}
        inner = inner["a"]
    return outer


def accept(data: Any) -> Any:
    return intake.accept(data, SENDER, Settings(), NOW, "urgent")


def fields(exc: pytest.ExceptionInfo[InvalidAlert]) -> list[str]:
    return [e["field"] for e in exc.value.extra["errors"]]


def test_a_valid_alert_is_accepted() -> None:
    record = accept(scam())
    assert record.sender == SENDER
    assert record.body.title.startswith("Số")


# --- nesting: always a 422 on "body", never a 500 ---------------------------------------------


@pytest.mark.parametrize("depth", [40, 254, 255, 300, 1000, 1024])
@pytest.mark.parametrize("where", ["title", "subject", "extra"])
def test_deeply_nested_body_is_an_invalid_alert(depth: int, where: str) -> None:
    data = scam()
    if where == "subject":
        data["subject"]["number"] = nested(depth)
    else:
        data[where] = nested(depth)
    with pytest.raises(InvalidAlert) as exc:
        accept(data)
    assert fields(exc) == ["body"]
    assert exc.value.extra["errors"][0]["type"] == "too_deep"


def test_deeply_nested_lists_are_an_invalid_alert() -> None:
    deep: list[Any] = []
    for _ in range(600):
        deep = [deep]
    with pytest.raises(InvalidAlert) as exc:
        accept(scam(title=deep))
    assert fields(exc) == ["body"]


# --- the routes, with a stand-in for Kafka ----------------------------------------------------


class Written:
    """Stands in for Publisher.send_many: every record is durably written at once."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes]] = []
        self.values: list[bytes] = []
        self.partitions: list[int | None] = []  # as the caller named them

    async def __call__(
        self,
        topic: str,
        records: Sequence[tuple[bytes, bytes]],
        within: float | None = None,
        partitions: Sequence[int] | None = None,
    ) -> list[KafkaUnavailable | None]:
        self.records.extend((topic, key) for key, _ in records)
        self.values.extend(value for _, value in records)
        self.partitions.extend(partitions if partitions is not None else [None] * len(records))
        return [None] * len(records)


@pytest.fixture
def client() -> Iterator[tuple[TestClient, Written]]:
    # Without `with`, TestClient runs no lifespan: the app never tries to reach Kafka. Its
    # intake workers start with the first batch; they are stopped here.
    app = create_app(Settings())
    written = Written()
    app.state.services.publisher.send_many = written
    yield TestClient(app, raise_server_exceptions=False), written
    app.state.services.intake.close()


AUTH = {"Authorization": f"Bearer demo-partner-{SENDER}"}


# orjson will not even encode 600 levels (the bug's cause); the stdlib's encoder will.
def test_a_deep_body_answers_422_naming_the_body(client: tuple[TestClient, Written]) -> None:
    c, written = client
    r = c.post("/v1/alerts", content=json.dumps(scam(title=nested(600))), headers=AUTH)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_alert"
    assert [e["field"] for e in r.json()["errors"]] == ["body"]
    assert written.records == []


def test_a_deep_item_fails_alone_in_a_batch(client: tuple[TestClient, Written]) -> None:
    c, written = client
    items = [scam("HN-T-DEEP", title=nested(600)), scam("HN-T-OK")]
    r = c.post("/v1/alerts/batch", content=json.dumps(items), headers=AUTH)
    assert r.status_code == 200, r.text
    result = r.json()
    assert (result["accepted"], result["rejected"]) == (1, 1)
    deep, ok = result["items"]
    assert (deep["index"], deep["status"], deep["error"]) == (0, 422, "invalid_alert")
    assert [e["field"] for e in deep["errors"]] == ["body"]
    assert (ok["index"], ok["status"]) == (1, 202)
    assert len(written.records) == 1


# --- admission: text and dates as of the intake's own time ------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("title", "Số\x00điện thoại", "control_character"),
        ("title", "\u200b\u200b", "invisible_text"),
        ("title", "invoice\u202efdp.exe", "bidi_control"),
        ("expires_at", "1970-01-01T00:00:00Z", "expired"),
    ],
)
def test_accept_refuses_what_cannot_be_shown_as_written(field: str, value: str, error: str) -> None:
    with pytest.raises(InvalidAlert) as exc:
        accept(scam(**{field: value}))
    assert [(e["field"], e["type"]) for e in exc.value.extra["errors"]] == [(field, error)]


def test_accept_judges_dates_as_of_its_own_now() -> None:
    # An hour after NOW is the future for this intake, whatever the machine's clock says.
    record = accept(scam(expires_at="2026-12-01T13:00:00+00:00"))
    assert record.body.expires_at == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    with pytest.raises(InvalidAlert) as exc:
        accept(scam(subject={"number": "0971 000 245", "first_seen": "2026-12-03"}))
    assert fields(exc) == ["subject.first_seen"]


def test_a_post_with_a_birth_date_in_2999_answers_422(client: tuple[TestClient, Written]) -> None:
    c, written = client
    body = scam()
    body.update(
        kind="wanted_person",
        subject={"full_name": "Lê Minh Tuấn", "date_of_birth": "2999-01-01"},
    )
    r = c.post("/v1/alerts", json=body, headers=AUTH)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {
            "field": "subject.date_of_birth",
            "message": "must not be in the future",
            "type": "date_in_future",
        }
    ]
    assert written.records == []


def test_a_batch_names_each_records_partition_as_kafkas_partitioner_would(
    client: tuple[TestClient, Written],
) -> None:
    # Worked out in the intake workers (and, for a follow-up keyed by its group, on the loop):
    # it must be where the producer's own partitioner would have put the key, or a group's
    # records would not meet their state on one partition.
    c, written = client

    def number(i: int) -> dict[str, Any]:
        return {"number": f"0912 345 {i:03d}", "scam_type": "delivery", "reports": 1}

    items = [scam(f"P-{i}", subject=number(i)) for i in range(40)]
    items.append(scam("P-0-C", subject=number(0), references="P-0", msg_type="cancel"))
    items.append(scam("P-1-U", subject=number(1), urgency="immediate"))
    body = "\n".join(json.dumps(i) for i in items)
    r = c.post(
        "/v1/alerts/batch", content=body, headers={**AUTH, "content-type": "application/x-ndjson"}
    )
    assert r.status_code == 200, r.text
    assert all(item["status"] == 202 for item in r.json()["items"]), r.text
    settings = Settings()
    t = topics(settings)
    assert len(written.records) == len(items)
    for (topic, key), p in zip(written.records, written.partitions, strict=True):
        count = settings.partitions if topic == t.inbound_bulk else 1
        assert p == partition_for(key, count)
    # The cancel is keyed by the alert it follows up, so it lands beside it.
    keys = [key for _, key in written.records]
    assert keys.count(keys[0]) == 2
