"""What the demo posts: the hand-written demo file, generated variations of it, and a list.

load_demo()      the demo file as (sender, body) pairs, in file order
generate()       endless-ish fresh alerts in the same style (~70 % scam numbers)
demo_list()      a shared list of scam numbers, two of them already reported in the file
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cli.demo.numbers import CALLING_CODE, capacity, international, scam_numbers
from hotline.samples import SAMPLE_ALERTS
from hotline.settings import DEMO_AGENCIES

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
            if again is None or again.startswith(f"+{CALLING_CODE[country]} "):
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
