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

from cli.demo import catalog
from cli.demo.numbers import CALLING_CODE, capacity, international, scam_numbers
from hotline.samples import SAMPLE_ALERTS

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


def _person_name(rng: random.Random, country: str) -> str:
    female = rng.random() < 0.3
    if country == "VN":
        middles, givens = catalog.VN_FEMALE if female else catalog.VN_MALE
        return f"{rng.choice(catalog.VN_FAMILY)} {rng.choice(middles)} {rng.choice(givens)}"
    if country == "CN":
        return rng.choice(catalog.CN_FAMILY) + rng.choice(catalog.CN_GIVEN)
    his, hers = rng.choice(catalog.RU_PATRONYMIC)
    family = rng.choice(catalog.RU_FAMILY)  # all end in -ов / -ев, whose feminine adds -а
    if female:
        return f"{family}а {rng.choice(catalog.RU_FEMALE)} {hers}"
    return f"{family} {rng.choice(catalog.RU_MALE)} {his}"


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
    others = [a for a in catalog.COUNTRY if a != sender]
    body: Body = {"source_ref": ref, "kind": kind, "msg_type": "alert"}
    body["language"] = catalog.LANGUAGE[sender]
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
        "scam_type": rng.choice(catalog.SCAM_TYPES),
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
    words = [rng.choice(catalog.APP_WORDS) for _ in range(2)]
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
    currency = catalog.CURRENCY[country]
    return {
        "scheme": rng.choice(catalog.FRAUD_SCHEMES),
        "indicators": indicators,
        "losses": {
            "amount": float(rng.randrange(1, 500) * catalog.LOSS_UNIT[currency]),
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
        "offences": rng.sample(catalog.OFFENCES, rng.randint(1, 2)),
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
    senders = list(catalog.COUNTRY)
    numbers = _Numbers(rng, most=2 * n)  # a fraud pattern takes up to two fresh numbers
    for i in range(n):
        sender = rng.choice(senders)
        country, lang = catalog.COUNTRY[sender], catalog.LANGUAGE[sender]
        roll = rng.random()
        kind = "scam_number" if roll < 0.7 else "fraud_pattern" if roll < 0.85 else "wanted_person"
        serial = f"{run}-{i:06d}"
        body = _envelope(
            rng, sender, f"{catalog.REF_PREFIX[sender]}-{catalog.KIND_CODE[kind]}-{serial}", kind
        )
        if kind == "scam_number":
            # Now and then another agency reports a number already seen, in its own writing:
            # the corroborations a viewer should see arrive.
            again = numbers.seen_before() if rng.random() < 0.08 else None
            if again is None or again.startswith(f"+{CALLING_CODE[country]} "):
                again = None  # its own country's number: a fresh one reads better
            subject = _scam_subject(rng, again or numbers.fresh(country))
            body["title"] = catalog.SCAM_TITLES[lang][subject["scam_type"]]
        elif kind == "fraud_pattern":
            subject = _fraud_subject(rng, country, serial, numbers)
            body["title"] = catalog.FRAUD_TITLES[lang][subject["scheme"]]
        else:
            subject = _wanted_subject(rng, country)
            body["title"] = catalog.WANTED_TITLE[lang].format(subject["full_name"])
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
