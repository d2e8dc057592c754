"""Demo traffic: the hand-written demo file, generated variations of it, and a poster that plays
both against a running gateway so a live demo has something to show.

    load_demo()      the demo file as (sender, body) pairs, in file order
    generate()       endless-ish fresh alerts in the same style (~70 % scam numbers)
    scam_numbers()   many distinct valid national-format numbers, fast (bulk benchmarks)
    demo_list()      a shared list of scam numbers, two of them already reported in the file
    run_demo()       POST the file, the list (one batch), then generated traffic
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from hotline.retry import RetryLater, backoff, raise_for_retry_later, wait_retry_after
from hotline.samples import SAMPLE_ALERTS
from hotline.settings import DEMO_AGENCIES, DEMO_PARTNER_PREFIX

# The sample alerts live in the shared core: the gateway's API document shows them as examples.
DEMO_FILE: Path = SAMPLE_ALERTS

Body = dict[str, Any]

# --- the demo file ----------------------------------------------------------------------------


def load_demo(path: Path = DEMO_FILE) -> list[tuple[str, Body]]:
    """(sender agency, body without `_from`) for every line of the demo file, in file order."""
    out: list[tuple[str, Body]] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        body = json.loads(line)
        if not isinstance(body, dict) or not isinstance(body.get("_from"), str):
            raise ValueError(f"{path}:{lineno}: expected a JSON object with a '_from' agency")
        sender = body.pop("_from")
        out.append((sender, body))
    return out


# --- phone numbers ----------------------------------------------------------------------------

_BLOCK = 10_000_000  # every plan below is a set of blocks of 10^7 numbers sharing leading digits

# Leading digits of national significant numbers whose *whole* 10^7 block the phonenumbers
# metadata accepts (checked against its mobile / fixed-line patterns), so a number built from
# any 7-digit tail is valid without calling phonenumbers a million times. A prefix listed twice
# is drawn twice as often: Moscow landlines would otherwise be 2 % of Russian numbers.
_PLANS: dict[str, tuple[str, ...]] = {
    # Mobile 09x / 03x, NSN 9 digits: 0912 345 678.
    "VN": tuple(f"9{d}" for d in "012345678") + tuple(f"3{d}" for d in "23456789"),
    # Mobile 9xx (not 93x: its pattern has holes), NSN 10 digits; Moscow fixed lines 495/499.
    "RU": tuple(f"9{a}{b}" for a in "012456789" for b in "0123456789")
    + ("495",) * 8
    + ("499",) * 4,
    # Mobile 13x / 15x / 18x / 19x (not 154 / 194: unassigned), NSN 11 digits.
    "CN": tuple(
        f"1{a}{b}{c}"
        for a, bs in (("3", "0123456789"), ("5", "012356789"), ("8", "0123456789"))
        + (("9", "012356789"),)
        for b in bs
        for c in "0123456789"
    ),
}

_TRUNK = {"VN": "0", "RU": "8", "CN": ""}
_CALLING_CODE = {"VN": "84", "RU": "7", "CN": "86"}


# National formats, as people in each country write a number (what a partner pastes from a
# complaint), split into a per-block head and the 7-digit tail so the hot loop only slices
# the tail: VN 0912 345 678, RU 8 916 123-45-67 / 8 (495) 123-45-67, CN 138 0013 8000.
def _head(country: str, prefix: str) -> str:
    if country == "VN":
        return f"0{prefix}"
    if country == "RU":
        return f"8 {prefix} " if prefix[0] == "9" else f"8 ({prefix}) "
    return f"{prefix[:3]} {prefix[3]}"


def _tail_vn(t: str) -> str:
    return f"{t[0]} {t[1:4]} {t[4:]}"


def _tail_ru(t: str) -> str:
    return f"{t[:3]}-{t[3:5]}-{t[5:]}"


def _tail_cn(t: str) -> str:
    return f"{t[:3]} {t[3:]}"


_TAILS: dict[str, Callable[[str], str]] = {"VN": _tail_vn, "RU": _tail_ru, "CN": _tail_cn}


def international(national: str, country: str) -> str:
    """A number from `scam_numbers` as another agency would write it: `+84 965 000 123`."""
    digits = "".join(ch for ch in national if ch.isdigit())
    nsn = digits[len(_TRUNK[country]) :]
    if country == "CN":
        return f"+86 {nsn[:3]} {nsn[3:7]} {nsn[7:]}"
    return f"+{_CALLING_CODE[country]} {nsn[:3]} {nsn[3:6]} {nsn[6:]}"


def _plan(country: str) -> tuple[str, ...]:
    try:
        return _PLANS[country.upper()]
    except KeyError:
        known = sorted(_PLANS)
        raise ValueError(f"no number plan for country {country!r}; have {known}") from None


def capacity(country: str) -> int:
    """The most numbers `scam_numbers` will produce for a country.

    Half of what the most-weighted block can take, so draws never degrade into endless
    rejection of numbers already produced.
    """
    plan = _plan(country)
    return min(_BLOCK * len(plan) // (2 * plan.count(p)) for p in set(plan))


def scam_numbers(rng: random.Random, n: int, country: str) -> Iterator[str]:
    """`n` distinct numbers, valid for `country` (VN, RU or CN), in its national format."""
    country = country.upper()
    plan = _plan(country)
    if n > (cap := capacity(country)):
        raise ValueError(f"{n} numbers exceed the {cap} this plan yields for {country}")
    # Duplicated prefixes share one id so the same number drawn via either copy is one number.
    ids = {p: i for i, p in enumerate(dict.fromkeys(plan))}
    block_ids = [ids[p] for p in plan]
    heads = [_head(country, p) for p in plan]
    tail_fmt = _TAILS[country]
    space = len(plan) * _BLOCK
    seen: set[int] = set()
    # Bound once: benchmarks run this loop a million times.
    randbelow, remember = rng.randrange, seen.add
    while len(seen) < n:
        block, tail = divmod(randbelow(space), _BLOCK)
        key = block_ids[block] * _BLOCK + tail
        if key in seen:
            continue
        remember(key)
        # str(tail + 10^7)[1:] zero-pads to 7 digits faster than a format spec.
        yield heads[block] + tail_fmt(str(tail + _BLOCK)[1:])


# --- generated alerts -------------------------------------------------------------------------

_COUNTRY = {a.id: a.country for a in DEMO_AGENCIES}
_LANGUAGE = {a.id: (a.languages[0] if a.languages else "en") for a in DEMO_AGENCIES}
_REF_PREFIX = {"vn-hanoi": "HN", "cn-beijing": "BJ", "ru-moscow": "MSK"}
_CURRENCY = {"VN": "VND", "CN": "CNY", "RU": "RUB"}
_LOSS_UNIT = {"VND": 1_000_000, "CNY": 1_000, "RUB": 10_000}  # so losses read plausibly

_SCAM_TITLES: dict[str, dict[str, str]] = {
    "vi": {
        "impersonation": "Số điện thoại giả danh cơ quan công an",
        "bank_security_impersonation": "Số điện thoại giả danh nhân viên ngân hàng",
        "investment": "Số điện thoại lừa đảo đầu tư",
        "loan_app": "Số điện thoại của ứng dụng vay tiền lừa đảo",
        "job": "Số điện thoại tuyển cộng tác viên 'việc nhẹ lương cao'",
        "delivery": "Số điện thoại giả danh nhân viên giao hàng",
    },
    "zh": {
        "impersonation": "诈骗电话（冒充公检法）",
        "bank_security_impersonation": "诈骗电话（冒充银行客服）",
        "investment": "投资理财诈骗电话",
        "loan_app": "网络贷款诈骗电话",
        "job": "刷单返利诈骗电话",
        "delivery": "诈骗电话（冒充快递客服）",
    },
    "ru": {
        "impersonation": "Мошеннический номер: звонки от имени полиции",
        "bank_security_impersonation": "Мошеннический номер: «служба безопасности банка»",
        "investment": "Мошеннический номер: «инвестиции с гарантированным доходом»",
        "loan_app": "Мошеннический номер: «займ без проверок»",
        "job": "Мошеннический номер: «лёгкая подработка»",
        "delivery": "Мошеннический номер: «курьерская служба»",
    },
}
_SCAM_TYPES = tuple(_SCAM_TITLES["vi"])
_KIND_CODE = {"scam_number": "SN", "fraud_pattern": "FP", "wanted_person": "WP"}

_WANTED_TITLE = {"vi": "Truy nã: {}", "zh": "通缉：{}", "ru": "Розыск: {}"}
_FRAUD_TITLES: dict[str, dict[str, str]] = {
    "vi": {
        "investment": "Thủ đoạn lừa đảo đầu tư qua ứng dụng giả mạo",
        "impersonation": "Thủ đoạn giả danh cơ quan chức năng",
        "loan_app": "Ứng dụng vay tiền lừa đảo",
        "romance": "Lừa đảo tình cảm qua mạng",
        "job": "Lừa đảo tuyển cộng tác viên online",
        "phishing": "Trang web giả mạo đánh cắp thông tin",
    },
    "zh": {
        "investment": "虚假投资理财App诈骗",
        "impersonation": "冒充公检法诈骗新手法",
        "loan_app": "网络贷款App诈骗",
        "romance": "“杀猪盘”交友诈骗",
        "job": "刷单返利诈骗",
        "phishing": "钓鱼网站诈骗",
    },
    "ru": {
        "investment": "Схема: фальшивое инвестиционное приложение",
        "impersonation": "Схема: звонки от имени полиции",
        "loan_app": "Схема: мошеннические микрозаймы",
        "romance": "Схема: знакомства и «инвестиции»",
        "job": "Схема: «лёгкая подработка»",
        "phishing": "Схема: фишинговый сайт",
    },
}
_OFFENCES = (
    "fraud", "money_laundering", "drug_trafficking", "human_trafficking",
    "illegal_border_crossing", "organised_crime",
)  # fmt: skip
_FRAUD_SCHEMES = tuple(_FRAUD_TITLES["vi"])
_APP_WORDS = ("Gold", "Trade", "Loan", "Star", "Link", "Pay", "Task", "Love", "Fast", "Smart")

_VN_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
_VN_MALE = (("Văn", "Đức", "Quang", "Minh"), ("Hải", "Long", "Khánh", "Dũng", "Sơn", "Thắng"))
_VN_FEMALE = (("Thị", "Ngọc", "Thu"), ("Lan", "Hương", "Trang", "Yến", "Mai"))
_CN_FAMILY = ("王", "李", "张", "刘", "陈", "杨", "黄", "吴", "徐", "郭")
_CN_GIVEN = ("建华", "晓东", "志明", "海涛", "丽娟", "雪梅", "俊杰", "国强", "美玲", "文斌")
_RU_FAMILY = ("Иванов", "Соколов", "Попов", "Лебедев", "Козлов", "Новиков", "Морозов", "Зайцев")
_RU_MALE = ("Андрей", "Сергей", "Дмитрий", "Алексей", "Максим", "Игорь", "Юрий")
_RU_FEMALE = ("Анна", "Ольга", "Наталья", "Елена", "Ирина", "Юлия")
# Patronymics agree in gender with the person: (his, hers).
_RU_PATRONYMIC = (
    ("Александрович", "Александровна"), ("Викторович", "Викторовна"),
    ("Николаевич", "Николаевна"), ("Петрович", "Петровна"),
    ("Юрьевич", "Юрьевна"), ("Михайлович", "Михайловна"),
)  # fmt: skip


def _person_name(rng: random.Random, country: str) -> str:
    female = rng.random() < 0.3
    if country == "VN":
        middles, givens = _VN_FEMALE if female else _VN_MALE
        return f"{rng.choice(_VN_FAMILY)} {rng.choice(middles)} {rng.choice(givens)}"
    if country == "CN":
        return rng.choice(_CN_FAMILY) + rng.choice(_CN_GIVEN)
    his, hers = rng.choice(_RU_PATRONYMIC)
    family = rng.choice(_RU_FAMILY)  # all end in -ов / -ев, whose feminine adds -а
    if female:
        return f"{family}а {rng.choice(_RU_FEMALE)} {hers}"
    return f"{family} {rng.choice(_RU_MALE)} {his}"


def _passport(rng: random.Random, country: str) -> str:
    if country == "VN":
        return rng.choice("BCKNP") + f"{rng.randrange(10**7):07d}"
    if country == "CN":
        return "E" + rng.choice("ABCDEGH") + f"{rng.randrange(10**7):07d}"
    return f"7{rng.randrange(5, 7)}{rng.randrange(10**7):07d}"


def _bank_account(rng: random.Random, country: str) -> str:
    if country == "VN":
        return f"{rng.choice(('VCB', 'TCB', 'ACB', 'MB'))} {rng.randrange(10**13):013d}"
    if country == "CN":
        groups = (f"{rng.randrange(10**4):04d}" for _ in range(3))
        return "6222 " + " ".join(groups)
    return f"40817810{rng.randrange(10**12):012d}"


def _envelope(rng: random.Random, sender: str, ref: str, kind: str) -> Body:
    others = [a for a in _COUNTRY if a != sender]
    body: Body = {"source_ref": ref, "kind": kind, "msg_type": "alert"}
    body["language"] = _LANGUAGE[sender]
    if kind == "scam_number":
        body |= {
            "severity": rng.choice(("moderate", "moderate", "minor")),
            "urgency": rng.choice(("expected", "future")),
            "tlp": "green",
        }
    else:
        body |= {
            "severity": rng.choice(("extreme", "severe", "severe", "moderate")),
            "urgency": rng.choice(("immediate", "expected", "expected")),
            "tlp": "amber",
        }
        if rng.random() < 0.5:
            body["recipients"] = rng.sample(others, rng.randint(1, len(others)))
    return body


class _Numbers:
    """Fresh scam numbers per country, and the ones lately handed out (for reuse elsewhere)."""

    def __init__(self, rng: random.Random, most: int) -> None:
        self._rng, self._most = rng, most
        self._fresh: dict[str, Iterator[str]] = {}
        self.recent: list[tuple[str, str]] = []  # (country, national number)

    def fresh(self, country: str) -> str:
        if country not in self._fresh:
            most = min(self._most, capacity(country))
            self._fresh[country] = scam_numbers(self._rng, most, country)
        number = next(self._fresh[country])
        self.recent.append((country, number))
        del self.recent[:-50]
        return number

    def seen_before(self) -> str | None:
        """A recently reported number, written the international way another agency would."""
        if not self.recent:
            return None
        country, number = self._rng.choice(self.recent)
        return international(number, country)


def _scam_subject(rng: random.Random, number: str) -> Body:
    first = date(2026, 12, 1) - timedelta(days=rng.randrange(90))
    return {
        "number": number,
        "scam_type": rng.choice(_SCAM_TYPES),
        "first_seen": first.isoformat(),
        "reports": rng.randint(1, 120),
    }


def _fraud_subject(rng: random.Random, country: str, serial: str, numbers: _Numbers) -> Body:
    # Picked before this pattern's own numbers join `recent`, so no number is listed twice.
    related = numbers.seen_before() if rng.random() < 0.5 else None
    phones = [numbers.fresh(country) for _ in range(rng.randint(1, 2))]
    if related is not None:
        # A reported scam number in the pattern: the related-case link shows up in the demo.
        phones.append(related)
    words = [rng.choice(_APP_WORDS) for _ in range(2)]
    indicators: Body = {
        "phone_numbers": phones,
        "urls": [f"https://{words[0].lower()}-{words[1].lower()}-{serial[-4:]}.example/"],
    }
    if rng.random() < 0.6:
        indicators["app_names"] = [f"{words[0]}{words[1]} {serial[-4:]}"]
    if rng.random() < 0.5:
        indicators["bank_accounts"] = [_bank_account(rng, country)]
    if rng.random() < 0.2:
        indicators["crypto_wallets"] = [("TDemo" + serial.replace("-", "")).ljust(34, "0")]
    currency = _CURRENCY[country]
    return {
        "scheme": rng.choice(_FRAUD_SCHEMES),
        "indicators": indicators,
        "losses": {
            "amount": float(rng.randrange(1, 500) * _LOSS_UNIT[currency]),
            "currency": currency,
        },
        "victims": rng.randint(1, 300),
    }


def _wanted_subject(rng: random.Random, country: str) -> Body:
    born = date(1965, 1, 1) + timedelta(days=rng.randrange(365 * 38))
    subject: Body = {
        "full_name": _person_name(rng, country),
        "date_of_birth": born.isoformat(),
        "nationality": country,
        "offences": rng.sample(_OFFENCES, rng.randint(1, 2)),
    }
    if rng.random() < 0.7:
        subject["documents"] = [
            {"type": "passport", "number": _passport(rng, country), "country": country}
        ]
    return subject


def generate(
    rng: random.Random, n: int, *, run_id: str | None = None
) -> Iterator[tuple[str, Body]]:
    """`n` fresh (sender, body) pairs in the demo's style, valid for `alert_in_adapter`.

    source_refs carry a run id (random by default, so a restarted demo never collides with
    the refs of an earlier run that the dedupe stage still remembers).
    """
    run = run_id if run_id is not None else secrets.token_hex(3)
    senders = list(_COUNTRY)
    numbers = _Numbers(rng, most=2 * n)  # a fraud pattern takes up to two fresh numbers
    for i in range(n):
        sender = rng.choice(senders)
        country, lang = _COUNTRY[sender], _LANGUAGE[sender]
        roll = rng.random()
        kind = "scam_number" if roll < 0.7 else "fraud_pattern" if roll < 0.85 else "wanted_person"
        serial = f"{run}-{i:06d}"
        body = _envelope(rng, sender, f"{_REF_PREFIX[sender]}-{_KIND_CODE[kind]}-{serial}", kind)
        if kind == "scam_number":
            # Now and then another agency reports a number already seen, in its own writing:
            # the corroborations a viewer should see arrive.
            again = numbers.seen_before() if rng.random() < 0.08 else None
            if again is None or again.startswith(f"+{_CALLING_CODE[country]} "):
                again = None  # its own country's number: a fresh one reads better
            subject = _scam_subject(rng, again or numbers.fresh(country))
            body["title"] = _SCAM_TITLES[lang][subject["scam_type"]]
        elif kind == "fraud_pattern":
            subject = _fraud_subject(rng, country, serial, numbers)
            body["title"] = _FRAUD_TITLES[lang][subject["scheme"]]
        else:
            subject = _wanted_subject(rng, country)
            body["title"] = _WANTED_TITLE[lang].format(subject["full_name"])
        body["subject"] = subject
        yield sender, body


# Numbers the demo file already reported (Hanoi and Beijing the first, Beijing the second),
# written the way a Moscow list would: the list's hits on the consoles.
_LIST_HITS = ("+84 965 000 123", "+86 139 0000 2471")
DEMO_LIST_SIZE = 60


def demo_list(run_id: str) -> tuple[str, str, list[Body]]:
    """(sender, import id, items): Moscow shares a list of scam numbers, as a partner's
    system would post a telecom list, so the consoles show it as one digest and its hits."""
    numbers = list(scam_numbers(random.Random(7), DEMO_LIST_SIZE - len(_LIST_HITS), "RU"))  # noqa: S311 (fictional numbers)
    numbers[10:10] = [_LIST_HITS[0]]
    numbers[40:40] = [_LIST_HITS[1]]
    items = [
        {
            "source_ref": f"MSK-LIST-{run_id}-{i:03d}",
            "kind": "scam_number",
            "msg_type": "alert",
            "severity": "minor",
            "urgency": "future",
            "tlp": "green",
            "language": "ru",
            "title": "Номер из списка жалоб абонентов",
            "subject": {"number": number, "scam_type": "impersonation"},
        }
        for i, number in enumerate(numbers)
    ]
    return "ru-moscow", f"MSK-LIST-{run_id}", items


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
) -> bool:
    msg = "" if body.get("msg_type", "alert") == "alert" else f" ({body['msg_type']})"
    label = f"{sender} → {body.get('kind')}{msg} {body.get('source_ref')}"
    headers = {"Authorization": f"Bearer {DEMO_PARTNER_PREFIX}{sender}"}

    async def send() -> httpx.Response:
        resp = await http.post(f"{base}/v1/alerts", json=body, headers=headers)
        return raise_for_retry_later(resp)

    async def wait_or_stop(seconds: float) -> None:
        if await _sleep(seconds, stop):
            raise _Stopped

    # A gateway restarting mid-demo should pause the show, not end it.
    retrying = AsyncRetrying(
        retry=retry_if_exception_type((httpx.TransportError, RetryLater)),
        wait=wait_retry_after(backoff(0.5, 10.0)),
        stop=stop_after_attempt(_MAX_ATTEMPTS),
        sleep=wait_or_stop,
        reraise=True,
    )
    try:
        resp: httpx.Response = await retrying(send)
    except (httpx.TransportError, RetryLater, _Stopped) as exc:
        attempts = retrying.statistics.get("attempt_number", 1)
        if isinstance(exc, RetryLater):
            outcome = str(exc.status_code)
        else:
            outcome = "stopped" if isinstance(exc, _Stopped) else type(exc).__name__
        log(f"{label} {outcome}, not accepted after {attempts} attempts")
        return False
    retries = retrying.statistics.get("attempt_number", 1) - 1
    detail = "" if resp.is_success else f" {resp.text[:100]}"
    log(f"{label} {resp.status_code}{f' (after {retries} retries)' if retries else ''}{detail}")
    return resp.is_success


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

    async def wait_or_stop(seconds: float) -> None:
        if await _sleep(seconds, stop):
            raise _Stopped

    retrying = AsyncRetrying(
        retry=retry_if_exception_type((httpx.TransportError, RetryLater)),
        wait=wait_retry_after(backoff(0.5, 10.0)),
        stop=stop_after_attempt(_MAX_ATTEMPTS),
        sleep=wait_or_stop,
        reraise=True,
    )
    label = f"{sender} → list {import_id} ({len(items)} numbers)"
    try:
        resp: httpx.Response = await retrying(send)
    except (httpx.TransportError, RetryLater, _Stopped) as exc:
        log(f"{label} not accepted: {type(exc).__name__}")
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
    """Post the demo file in order, then (if `loop_forever`) generated traffic at `rate`
    alerts/s until `stop` is set. Returns how many alerts the gateway accepted (2xx)."""
    if loop_forever and rate <= 0:
        raise ValueError("rate must be positive")
    stop = stop if stop is not None else asyncio.Event()
    base = base_url.rstrip("/")
    http = client if client is not None else httpx.AsyncClient(timeout=10.0)
    accepted = 0
    try:
        if not await _wait_ready(http, base, ready_timeout, stop, log):
            return accepted
        for sender, body in load_demo():
            if stop.is_set():
                return accepted
            accepted += await _post(http, base, sender, body, stop, log)
            # ~1 s apart so a viewer sees each alert arrive on the consoles.
            if await _sleep(pause, stop):
                return accepted
        # A run id, as generate() uses: a restarted demo's list is a list of its own.
        run_id = secrets.token_hex(3)
        accepted += await _post_list(http, base, run_id, stop, log)
        if not loop_forever or await _sleep(pause, stop):
            return accepted
        # Not for secrets: only which fictional alert to invent next.
        gen_rng = rng if rng is not None else random.Random()  # noqa: S311
        for sender, body in generate(gen_rng, 10**9, run_id=run_id):
            if stop.is_set():
                break
            accepted += await _post(http, base, sender, body, stop, log)
            if await _sleep(1.0 / rate, stop):
                break
        return accepted
    finally:
        if client is None:
            await http.aclose()
