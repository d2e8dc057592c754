"""Fictional phone numbers that pass real validation: many, distinct, fast.

international()  a national-format number as a partner abroad would write it
capacity()       how many distinct numbers a country's plan holds
scam_numbers()   many distinct valid national-format numbers, fast (bulk benchmarks)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

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
CALLING_CODE = {"VN": "84", "RU": "7", "CN": "86"}


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
    return f"+{CALLING_CODE[country]} {nsn[:3]} {nsn[3:6]} {nsn[6:]}"


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
