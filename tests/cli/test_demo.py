from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from typing import Any

import httpx
import phonenumbers
import pytest

from cli.demo.alerts import DEMO_FILE, DEMO_LIST_SIZE, generate, load_demo
from cli.demo.numbers import capacity, international, scam_numbers
from cli.demo.outcomes import NOTES
from cli.demo.traffic import run_demo
from hotline.alert_in import FraudPatternAlert, ScamNumberAlert, WantedPersonAlert, parse_alert
from hotline.enrich import enrich
from hotline.models import OutcomeIn
from hotline.settings import DEMO_AGENCIES, Settings
from tests.fixtures.scenarios import all_scenarios, scenario

COUNTRY = {a.id: a.country for a in DEMO_AGENCIES}
BASE = "http://hotline.test"

Alert = WantedPersonAlert | FraudPatternAlert | ScamNumberAlert


def phones_of(alert: Alert) -> list[str]:
    if isinstance(alert, ScamNumberAlert):
        return [alert.subject.number]
    if isinstance(alert, FraudPatternAlert):
        return list(alert.subject.indicators.phone_numbers)
    return []


def e164(raw: str, sender: str) -> str:
    n = phonenumbers.parse(raw, COUNTRY[sender])
    assert phonenumbers.is_valid_number(n), (raw, sender)
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


# --- the demo file ------------------------------------------------------------------------------


def test_demo_file_lines_validate_and_phones_are_valid_for_the_sender() -> None:
    demo = load_demo()
    assert DEMO_FILE.name == "alerts.jsonl" and 20 <= len(demo) <= 40
    for sender, body in demo:
        assert sender in COUNTRY
        alert = parse_alert(body)
        for raw in phones_of(alert):
            e164(raw, sender)


def test_demo_file_covers_the_story() -> None:
    demo = load_demo()
    alerts = [(s, parse_alert(b)) for s, b in demo]
    lines = [json.dumps([s, b], sort_keys=True) for s, b in demo]

    # Exactly one retry, and it is the very same line again.
    assert [n for n in Counter(lines).values() if n > 1] == [2]
    keys = Counter((s, a.source_ref) for s, a in alerts)
    assert [n for n in keys.values() if n > 1] == [2]

    # An update and a cancel, each after the alert of the same sender it references.
    for msg_type in ("update", "cancel"):
        found = [(i, s, a) for i, (s, a) in enumerate(alerts) if a.msg_type == msg_type]
        assert found, msg_type
        for i, s, a in found:
            assert (s, a.references) in {(s2, a2.source_ref) for s2, a2 in alerts[:i]}

    assert any(a.tlp == "red" and a.recipients for _, a in alerts)
    assert sum(a.urgency == "immediate" for _, a in alerts) >= 3
    assert {a.severity for _, a in alerts} == {"extreme", "severe", "moderate", "minor"}
    assert {a.kind for _, a in alerts} == {"wanted_person", "fraud_pattern", "scam_number"}

    # One scam number reported by two agencies, written differently.
    by_number: dict[str, set[tuple[str, str]]] = {}
    for s, a in alerts:
        if isinstance(a, ScamNumberAlert):
            by_number.setdefault(e164(a.subject.number, s), set()).add((s, a.subject.number))
    assert any(
        len({s for s, _ in v}) == 2 and len({r for _, r in v}) == 2 for v in by_number.values()
    )

    # A fraud pattern lists a reported scam number.
    pattern_phones = {
        e164(p, s) for s, a in alerts if isinstance(a, FraudPatternAlert) for p in phones_of(a)
    }
    assert pattern_phones & set(by_number)

    # One document number written differently by two agencies.
    docs: dict[tuple[str, str, str], set[tuple[str, str]]] = {}
    for s, a in alerts:
        if isinstance(a, WantedPersonAlert):
            for d in a.subject.documents:
                key = (d.type, d.country, "".join(ch for ch in d.number if ch.isalnum()))
                docs.setdefault(key, set()).add((s, d.number))
    assert any(len({s for s, _ in v}) == 2 and len({n for _, n in v}) == 2 for v in docs.values())


def test_every_sender_uses_ordinary_demo_domains() -> None:
    text = DEMO_FILE.read_text(encoding="utf-8")
    for word in text.replace('"', " ").split():
        if "://" in word:
            host = word.split("://", 1)[1].split("/", 1)[0].lower()
            assert host.endswith(".example"), word


# --- scenarios ----------------------------------------------------------------------------------

SCENARIOS = (
    "retry", "corroboration_by_document", "corroboration_by_phone",
    "corroboration_by_indicators", "corroboration_by_name_dob", "update", "cancel",
    "tlp_red", "related", "bad_phone",
)  # fmt: skip


def test_scenarios_are_all_there_and_validate() -> None:
    scenarios = all_scenarios()
    assert set(scenarios) == set(SCENARIOS)
    for name, pairs in scenarios.items():
        for sender, body in pairs:
            assert sender in COUNTRY and "scenario" not in body and "_from" not in body
            if name == "bad_phone":
                continue
            alert = parse_alert(body)
            for raw in phones_of(alert):
                e164(raw, sender)


def test_scenario_refs_are_their_own() -> None:
    demo_refs = {b["source_ref"] for _, b in load_demo()}
    refs = [(s, b["source_ref"]) for pairs in all_scenarios().values() for s, b in pairs]
    assert not demo_refs & {r for _, r in refs}
    # Only the retry posts a ref twice.
    assert [r for r, n in Counter(refs).items() if n > 1] == [("vn-hanoi", "HN-SC-RETRY-01")]


def test_scenario_shapes() -> None:
    (a, b) = scenario("retry")
    assert a == b

    for name in ("update", "cancel"):
        (s1, first), (s2, second) = scenario(name)
        assert s1 == s2 and second["msg_type"] == name
        assert second["references"] == first["source_ref"]

    (s1, first), (s2, second) = scenario("corroboration_by_phone")
    assert s1 != s2 and first["subject"]["number"] != second["subject"]["number"]
    assert e164(first["subject"]["number"], s1) == e164(second["subject"]["number"], s2)

    (s1, first), (s2, second) = scenario("corroboration_by_document")
    d1, d2 = first["subject"]["documents"][0], second["subject"]["documents"][0]
    assert s1 != s2 and d1["number"] != d2["number"]
    assert d1["number"].replace("-", "").replace(" ", "") == d2["number"].replace("-", "")

    (s1, first), (s2, second) = scenario("corroboration_by_name_dob")
    assert s1 != s2
    for body in (first, second):
        assert not body["subject"].get("documents")
    assert first["subject"]["date_of_birth"] == second["subject"]["date_of_birth"]

    (s1, first), (s2, second) = scenario("corroboration_by_indicators")
    i1, i2 = first["subject"]["indicators"], second["subject"]["indicators"]
    assert s1 != s2 and i1 != i2 and i1.keys() == i2.keys()
    assert {e164(p, s1) for p in i1["phone_numbers"]} == {e164(p, s2) for p in i2["phone_numbers"]}
    assert {x.lower() for x in i1["app_names"]} == {x.lower() for x in i2["app_names"]}

    ((sender, red),) = scenario("tlp_red")
    assert red["tlp"] == "red" and len(red["recipients"]) == 1 and sender not in red["recipients"]

    (s1, number), (s2, pattern) = scenario("related")
    assert e164(number["subject"]["number"], s1) in {
        e164(p, s2) for p in pattern["subject"]["indicators"]["phone_numbers"]
    }

    ((sender, bad),) = scenario("bad_phone")
    with pytest.raises(phonenumbers.NumberParseException):
        phonenumbers.parse(bad["subject"]["number"], COUNTRY[sender])


def test_scenario_copies_are_independent() -> None:
    scenario("retry")[0][1]["title"] = "changed"
    assert scenario("retry")[0][1]["title"] != "changed"
    with pytest.raises(KeyError):
        scenario("no-such-scenario")


# --- generated traffic --------------------------------------------------------------------------


def test_generate_yields_valid_alerts_with_unique_refs() -> None:
    pairs = list(generate(random.Random(11), 2000, run_id="t1"))
    assert len(pairs) == 2000
    kinds: Counter[str] = Counter()
    refs = set()
    for sender, body in pairs:
        alert = parse_alert(body)
        kinds[alert.kind] += 1
        refs.add((sender, alert.source_ref))
        assert "t1" in alert.source_ref
        assert sender not in (alert.recipients or [])
        for raw in phones_of(alert):
            e164(raw, sender)
        # What the gateway checks before it answers 202: every field normalizes.
        enrich(alert, Settings().agency(sender).country)
    assert len(refs) == len(pairs)
    assert 0.6 < kinds["scam_number"] / len(pairs) < 0.8
    assert kinds["fraud_pattern"] and kinds["wanted_person"]


def test_generate_runs_do_not_collide() -> None:
    first = {b["source_ref"] for _, b in generate(random.Random(1), 50)}
    second = {b["source_ref"] for _, b in generate(random.Random(1), 50)}
    assert not first & second


def test_generated_scam_numbers_are_valid_for_their_sender() -> None:
    for sender, body in generate(random.Random(3), 500, run_id="p"):
        if body["kind"] == "scam_number":
            e164(body["subject"]["number"], sender)


@pytest.mark.parametrize("country", ["VN", "RU", "CN"])
def test_scam_numbers_million_distinct_valid(country: str) -> None:
    # How fast they are generated is measured by bench/ (a timed assertion here is flaky).
    numbers = list(scam_numbers(random.Random(42), 1_000_000, country))
    assert len(numbers) == len(set(numbers)) == 1_000_000
    for raw in random.Random(0).sample(numbers, 1000):
        n = phonenumbers.parse(raw, country)
        assert phonenumbers.is_valid_number(n), raw
        assert phonenumbers.region_code_for_number(n) == country
        assert not raw.startswith("+")  # national format
        assert phonenumbers.parse(international(raw, country)) == n


def test_scam_numbers_formats_and_limits() -> None:
    vn = next(scam_numbers(random.Random(1), 1, "vn"))
    assert len(vn) == 12 and vn.startswith("0") and vn.count(" ") == 2
    ru = list(scam_numbers(random.Random(1), 300, "RU"))
    assert any(r.startswith("8 9") for r in ru) and any(r.startswith("8 (4") for r in ru)
    cn = next(scam_numbers(random.Random(1), 1, "CN"))
    assert len(cn) == 13 and cn.startswith("1")
    with pytest.raises(ValueError):
        next(scam_numbers(random.Random(1), capacity("VN") + 1, "VN"))
    with pytest.raises(ValueError):
        next(scam_numbers(random.Random(1), 1, "FR"))


# --- run_demo -----------------------------------------------------------------------------------


class FakeGateway:
    """An httpx.MockTransport handler: ready at once, accepts every alert with 202."""

    def __init__(
        self, *, busy_first: int = 0, retry_after: str = "0", stop_after: int | None = None
    ) -> None:
        self.posts: list[tuple[str, dict[str, object]]] = []
        self.lists: list[tuple[str, httpx.QueryParams, list[dict[str, Any]]]] = []
        self.busy_first = busy_first
        self.retry_after = retry_after
        self.stop_after = stop_after
        self.stop = asyncio.Event()
        self.readyz = 0
        self.outcomes: list[tuple[str, str, dict[str, Any]]] = []  # (auth, alert id, body)
        self.recipient_of: dict[str, str] = {}  # alert id -> the agency it was delivered to

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/readyz":
            self.readyz += 1
            return httpx.Response(503 if self.readyz == 1 else 200)
        if request.url.path == "/v1/alerts/batch":
            items = json.loads(request.content)
            self.lists.append((request.headers["authorization"], request.url.params, items))
            body = {
                "accepted": len(items),
                "rejected": 0,
                "import_id": request.url.params["import_id"],
                "items": [{"index": i, "status": 202} for i in range(len(items))],
            }
            return httpx.Response(200, json=body)
        if request.url.path.endswith("/outcomes"):
            alert_id = request.url.path.split("/")[3]
            self.outcomes.append(
                (request.headers["authorization"], alert_id, json.loads(request.content))
            )
            return httpx.Response(202, json={"alert_id": alert_id, "outcome_id": "oc-1"})
        if request.method == "GET":
            alert_id = request.url.path.rsplit("/", 1)[1]
            receipts = (
                [{"agency": self.recipient_of[alert_id]}] if alert_id in self.recipient_of else []
            )
            return httpx.Response(200, json={"receipts": receipts})
        assert request.method == "POST" and request.url.path == "/v1/alerts"
        if self.busy_first:
            self.busy_first -= 1
            status = 429 if self.busy_first % 2 else 503
            return httpx.Response(status, headers={"Retry-After": self.retry_after})
        body = json.loads(request.content)
        self.posts.append((request.headers["authorization"], body))
        if self.stop_after is not None and len(self.posts) >= self.stop_after:
            self.stop.set()
        alert_id = f"al-{len(self.posts)}"
        sender = request.headers["authorization"].removeprefix("Bearer demo-partner-")
        self.recipient_of[alert_id] = next(
            a for a in [*(body.get("recipients") or []), *COUNTRY] if a != sender
        )
        return httpx.Response(202, json={"alert_id": alert_id, "status": "accepted"})


def client_for(gateway: FakeGateway) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(gateway))


async def test_run_demo_posts_the_file_in_order_with_each_senders_key() -> None:
    gateway = FakeGateway(busy_first=2)
    logged: list[str] = []
    async with client_for(gateway) as client:
        accepted = await run_demo(
            BASE, client=client, loop_forever=False, pause=0, log=logged.append
        )
    demo = load_demo()
    assert accepted == len(demo) + DEMO_LIST_SIZE
    assert gateway.posts == [(f"Bearer demo-partner-{s}", b) for s, b in demo]
    assert gateway.readyz >= 2  # waited for readiness first
    # "waiting for …readyz", one line per alert, one for the list, one per outcome reported
    assert len(logged) == 1 + len(demo) + 1 + 3
    assert "60 accepted, 0 rejected" in logged[-4]
    first_sender, first_body = demo[0]
    assert any(
        line.startswith(f"{first_sender} → {first_body['kind']} {first_body['source_ref']} 202")
        for line in logged
    )


async def test_run_demo_honours_an_http_date_retry_after() -> None:
    # A date in the past means "now": the retry must not wait, and must still happen.
    gateway = FakeGateway(busy_first=3, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    logged: list[str] = []
    async with client_for(gateway) as client:
        accepted = await asyncio.wait_for(
            run_demo(BASE, client=client, loop_forever=False, pause=0, log=logged.append),
            timeout=5,
        )
    assert accepted == len(load_demo()) + DEMO_LIST_SIZE
    assert "(after 3 retries)" in logged[1]


async def test_run_demo_then_generates_until_stopped() -> None:
    demo = load_demo()
    gateway = FakeGateway(stop_after=len(demo) + 5)
    async with client_for(gateway) as client:
        accepted = await asyncio.wait_for(
            run_demo(
                BASE,
                client=client,
                stop=gateway.stop,
                rate=1000,
                pause=0,
                log=lambda _: None,
                rng=random.Random(2),
            ),
            timeout=10,
        )
    assert accepted == len(gateway.posts) + DEMO_LIST_SIZE == len(demo) + 5 + DEMO_LIST_SIZE
    generated = gateway.posts[len(demo) :]
    for auth, body in generated:
        alert = parse_alert(body)
        sender = auth.removeprefix("Bearer demo-partner-")
        assert sender in COUNTRY and sender not in (alert.recipients or [])


async def test_run_demo_stops_mid_file() -> None:
    gateway = FakeGateway(stop_after=3)
    async with client_for(gateway) as client:
        accepted = await run_demo(
            BASE, client=client, stop=gateway.stop, pause=0, log=lambda _: None
        )
    assert accepted == 3 and len(gateway.posts) == 3


async def test_run_demo_gives_up_waiting_for_readiness() -> None:
    never = httpx.MockTransport(lambda request: httpx.Response(503))
    async with httpx.AsyncClient(transport=never) as client:
        with pytest.raises(TimeoutError):
            await run_demo(BASE, client=client, ready_timeout=0.2, log=lambda _: None)


async def test_run_demo_shares_one_list_with_hits_on_what_the_file_reported() -> None:
    gateway = FakeGateway()
    async with client_for(gateway) as client:
        await run_demo(BASE, client=client, loop_forever=False, pause=0, log=lambda _: None)
    ((auth, params, items),) = gateway.lists
    assert auth == "Bearer demo-partner-ru-moscow"
    assert params["import_id"].startswith("MSK-LIST-") and len(items) == DEMO_LIST_SIZE
    alerts = [parse_alert(b) for b in items]
    assert all(a.kind == "scam_number" and a.msg_type == "alert" for a in alerts)
    numbers = [e164(b["subject"]["number"], "ru-moscow") for b in items]
    assert len(set(numbers)) == len(numbers)
    reported = {
        e164(b["subject"]["number"], s)
        for s, b in load_demo()
        if b.get("kind") == "scam_number" and s != "ru-moscow"
    }
    assert len(reported & set(numbers)) == 2  # the list's hits
    assert len({b["source_ref"] for b in items}) == len(items)


async def test_run_demo_reports_an_outcome_per_kind_by_a_recipient_in_its_language() -> None:
    gateway = FakeGateway()
    async with client_for(gateway) as client:
        await run_demo(BASE, client=client, loop_forever=False, pause=0, log=lambda _: None)
    assert len(gateway.outcomes) == 3
    languages = {a.id: a.languages[0] for a in DEMO_AGENCIES}
    for auth, alert_id, body in gateway.outcomes:
        recipient = gateway.recipient_of[alert_id]
        assert auth == f"Bearer demo-partner-{recipient}"  # as the agency it was sent to
        assert body["note"] == NOTES[languages[recipient]][body["kind"]]
        assert OutcomeIn.model_validate(body).kind == body["kind"]
    assert {b["kind"] for _, _, b in gateway.outcomes} == {"located", "number_blocked", "not_found"}
