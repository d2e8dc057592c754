"""Names: a Latin display folding (`fold_name`) and a transliteration-insensitive matching key
(`name_key`), so that the same person reported in Cyrillic, Han or Vietnamese script, or in any
of the usual romanizations, is found as one.

`name_key` collapses Russian transliteration variants (ICAO 9303, BGN/PCGN, ALA-LC, Soviet-era
MVD passports, Wikipedia/press usage, GOST's j for й) per token, in this order:
  1. ``x`` -> ``ks``                Alexei = Aleksei (pinyin/Vietnamese never write "ks")
  2. ``tc`` -> ``ts`` (not "tch")   Kuznetcov (1997 passports) = Kuznetsov
  3. ``ye``/``je`` -> ``e``         Yevgeniy = Evgenii, Grigoryev = Grigorev, Jelena = Elena
     consonant + ``yo`` -> ``e``    ё: Fyodor = Fedor, Artyom = Artem, Solovyov = Solovev
  4. final ``[iyj]+`` -> ``i``      Dmitriy = Dmitrii = Dmitrij = Dmitry; Sergey = Sergej
  5. ``y`` before a/o/u or after a vowel, ``j`` before a -> ``i``: Yana = Iana, Mayya = Maiia
  6. ``ii+a`` -> ``ia``             Mariia = Mariya = Maria
Deliberately NOT collapsed: kh/h (Vietnamese Khanh vs Hanh are different names), ju/yu
(pinyin Jun vs Yun), GOST's x/c/shh for х/ц/щ (x clashes with rule 1, c with Vietnamese and
pinyin c) and ICAO's ie for ъ. name_key(name_key(x)) == name_key(x) (tested).
Known cost: pinyin Ye and E share a key. `name_matches` additionally lets adjacent tokens
merge, because Chinese passports join given-name syllables: WANG JIANGUO = 王建国.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import iuliia  # type: ignore[import-untyped, unused-ignore]
from anyascii import anyascii

__all__ = ["fold_name", "name_key", "name_matches", "name_skeleton"]


_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
# ICAO 9303 letters of Ukrainian/Belarusian that the Russian table in iuliia leaves alone.
_ICAO_EXTRA = str.maketrans(
    {
        "Є": "IE",
        "є": "ie",
        "І": "I",
        "і": "i",
        "Ї": "I",
        "ї": "i",
        "Ґ": "G",
        "ґ": "g",
        "Ў": "U",
        "ў": "u",
    }
)
_ICAO = iuliia.ICAO_DOC_9303
# đ is a separate letter, not d + mark, so NFKD alone would leave it.
_VIET_D = str.maketrans({"đ": "d", "Đ": "D"})
# Polyphonic characters whose surname reading differs from pypinyin's default (曾 ceng...).
_SURNAMES = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "区": "ou",
    "查": "zha",
    "翟": "zhai",
    "覃": "qin",
    "缪": "miao",
    "尉迟": "yu chi",
}
_APOSTROPHES_RE = re.compile(r"['`\"]")  # Grigor'ev, Pod"yachev: soft/hard signs join
_NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")

_KEY_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        ("x", "ks"),
        ("tc(?!h)", "ts"),
        ("[yj]+e", "e"),
        ("(?<=[bcdfghklmnpqrstvwz])[yj]o", "e"),
        ("[iyj]+$", "i"),
        ("[yj](?=a)|y(?=[ou])|(?<=[aeou])y", "i"),
        ("ii+a", "ia"),
    )
)


def _han_to_pinyin(run: str) -> str:
    from pypinyin import Style, lazy_pinyin  # heavy dictionaries: load on first Han name

    syllables: list[str] = lazy_pinyin(run, style=Style.NORMAL, v_to_u=True)
    if len(run) > 2 and run[:2] in _SURNAMES:
        syllables[:2] = [_SURNAMES[run[:2]]]
    elif len(run) > 1 and run[0] in _SURNAMES:
        syllables[0] = _SURNAMES[run[0]]
    return " " + " ".join(syllables) + " "


def fold_name(name: str) -> str:
    """Latin folding for display: ``Nguyễn Văn Hùng`` -> ``nguyen van hung``.

    Han becomes toneless pinyin syllables (``王伟`` -> ``wang wei``); Cyrillic follows
    ICAO 9303, the passport MRZ table (``Иванов Сергей`` -> ``ivanov sergei``).
    """
    return _fold_name(name)


@lru_cache(maxsize=1 << 16)
def _fold_name(name: str) -> str:
    # NFC composes и+breve into й before transliterating; split() turns every Unicode space
    # (NEL, U+3000...) into a token break before anyascii could delete it.
    text = " ".join(unicodedata.normalize("NFC", name).split())
    if _HAN_RE.search(text):
        text = _HAN_RE.sub(lambda m: _han_to_pinyin(m.group()), text)
    if _CYRILLIC_RE.search(text):
        text = str(_ICAO.translate(text.translate(_ICAO_EXTRA)))
    text = unicodedata.normalize("NFKD", text.translate(_VIET_D))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    if not text.isascii():
        text = anyascii(text)
    text = _APOSTROPHES_RE.sub("", text.lower())
    return " ".join(_NON_ALNUM_RE.sub(" ", text).split())


@lru_cache(maxsize=1 << 16)
def _token_key(token: str) -> str:
    for pattern, repl in _KEY_RULES:
        token = pattern.sub(repl, token)
    return token


def name_key(name: str) -> str:
    """Order- and transliteration-insensitive key: equal keys mean "same written name"."""
    return " ".join(sorted(_token_key(t) for t in fold_name(name).split()))


def name_matches(a: str, b: str) -> bool:
    """Same key, a patronymic/middle name omitted on one side, or joined given-name syllables."""
    ka, kb = name_key(a).split(), name_key(b).split()
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    small, big = sorted((set(ka), set(kb)), key=len)
    if len(small) >= 2 and small <= big:
        return True
    fine, coarse = sorted((fold_name(a).split(), fold_name(b).split()), key=len)[::-1]
    return 2 <= len(coarse) < len(fine) and _joined_match(fine, [_token_key(t) for t in coarse])


def _joined_match(fine: list[str], coarse_keys: list[str]) -> bool:
    # Any rotation of `fine`, so both surname-first and surname-last orders line up.
    for start in range(len(fine)):
        tokens, i = fine[start:] + fine[:start], 0
        for want in coarse_keys:
            j = next(
                (
                    j
                    for j in range(i + 1, len(tokens) + 1)
                    if _token_key("".join(tokens[i:j])) == want
                ),
                None,
            )
            if j is None:
                break
            i = j
        else:
            if i == len(tokens):
                return True
    return False


# What the key rules leave alone: each one only spells x as ks, turns the c of tc into s and
# the o of [yj]o into e, or adds and drops i, y and j. Read x as ks, c as s, o as e and leave
# i, y, j out, and a token has the same letters as its key, and joined syllables (JIANGUO) as
# their parts (JIAN GUO), whatever the rules did at the joins.
_SKELETON = str.maketrans({"x": "ks", "c": "s", "o": "e", "i": None, "y": None, "j": None})


def name_skeleton(name: str) -> str:
    """The letters of a name that no key rule changes, sorted: ``Wang Jianguo`` -> ``aaeggnnuw``.

    An index key for `name_matches`: if ``name_matches(a, b)``, then the keys of ``a`` and
    ``b`` share two distinct tokens, or ``a`` and ``b`` have the same skeleton (equal keys of
    one distinct token; joined syllables, which may share no token at all). Tested.
    """
    return "".join(sorted(fold_name(name).replace(" ", "").translate(_SKELETON)))
