"""The console's string catalogs (gateway/static/i18n/<lang>.json): every language has every
key with the same `{placeholders}`, and every count-dependent string has exactly the plural
forms its language's Intl.PluralRules can ask for."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest

from gateway.main import STATIC

CATALOGS = STATIC / "i18n"
# Intl.PluralRules(<locale>).resolvedOptions().pluralCategories for integers and fractions,
# with the locales i18n.js uses. Checked against Node's own ICU below where Node is installed.
CATEGORIES = {
    "en": {"one", "other"},
    "vi": {"other"},
    "ru": {"one", "few", "many", "other"},
    "zh": {"other"},
}
LOCALES = {"en": "en-GB", "vi": "vi-VN", "ru": "ru-RU", "zh": "zh-CN"}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalog(lang: str) -> dict[str, Any]:
    doc = json.loads((CATALOGS / f"{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _forms(value: Any) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def _placeholders(value: Any) -> set[str]:
    return {name for text in _forms(value) for name in PLACEHOLDER.findall(text)}


def _languages_in_i18n_js() -> list[str]:
    source = (STATIC / "i18n.js").read_text(encoding="utf-8")
    block = source.split("export const LANGUAGES = [", 1)[1].split("];", 1)[0]
    return re.findall(r'\[\s*"([a-z]+)"', block)


EN = _catalog("en")


def test_one_catalog_per_language_of_the_page() -> None:
    files = sorted(p.stem for p in CATALOGS.glob("*.json"))
    assert files == sorted(_languages_in_i18n_js()) == sorted(CATEGORIES)


@pytest.mark.parametrize("lang", sorted(CATEGORIES))
def test_every_language_has_every_key(lang: str) -> None:
    catalog = _catalog(lang)
    assert not set(EN) - set(catalog), f"{lang} lacks {sorted(set(EN) - set(catalog))}"
    assert not set(catalog) - set(EN), f"{lang} has unknown {sorted(set(catalog) - set(EN))}"
    for key, value in catalog.items():
        for text in _forms(value):
            assert isinstance(text, str) and text.strip(), f"{lang} {key}: empty"


@pytest.mark.parametrize("lang", sorted(CATEGORIES))
def test_every_translation_has_the_same_placeholders(lang: str) -> None:
    for key, value in _catalog(lang).items():
        for text in _forms(value):
            found = set(PLACEHOLDER.findall(text))
            assert found == _placeholders(EN[key]), f"{lang} {key}: {text!r}"


@pytest.mark.parametrize("lang", sorted(CATEGORIES))
def test_plural_entries_have_the_forms_the_language_needs(lang: str) -> None:
    catalog = _catalog(lang)
    plural = {key for key, value in EN.items() if isinstance(value, dict)}
    assert plural, "no plural entries at all"
    for key in plural:
        value = catalog[key]
        assert isinstance(value, dict), f"{lang} {key}: a plural entry must be an object"
        assert set(value) == CATEGORIES[lang], f"{lang} {key}: has {sorted(value)}"
        for text in value.values():
            assert "{n}" in text, f"{lang} {key}: the count is not shown in {text!r}"
    singular = {key for key in catalog if key not in plural}
    for key in singular:
        assert isinstance(catalog[key], str), f"{lang} {key}: plural here, not in English"


def test_every_count_is_a_plural_entry() -> None:
    """`{n}` is the count t() chooses a plural form by: a plain string with it would read
    "1 cases" in English."""
    for key, value in EN.items():
        if "n" in _placeholders(value):
            assert isinstance(value, dict), f"{key} shows a count but has no plural forms"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js for Intl.PluralRules")
def test_the_plural_categories_are_those_of_intl() -> None:
    script = (
        "const l = JSON.parse(process.argv[1]); process.stdout.write(JSON.stringify("
        "Object.fromEntries(Object.entries(l).map(([k, loc]) => "
        "[k, new Intl.PluralRules(loc).resolvedOptions().pluralCategories]))))"
    )
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(
        [node, "-e", script, json.dumps(LOCALES)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    got = {lang: set(cats) for lang, cats in json.loads(done.stdout).items()}
    assert got == CATEGORIES


def test_the_catalogs_are_served_as_json() -> None:
    from fastapi.testclient import TestClient

    from gateway.main import create_app
    from hotline.settings import Settings

    client = TestClient(create_app(Settings()))  # no lifespan: static files need no Kafka
    for lang in CATEGORIES:
        r = client.get(f"/i18n/{lang}.json")
        assert r.status_code == 200, lang
        assert r.headers["content-type"].startswith("application/json"), lang
        assert r.json() == _catalog(lang)


def test_catalog_files_are_plain_utf8() -> None:
    for path in CATALOGS.glob("*.json"):
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has a BOM"
        raw.decode("utf-8")


def test_every_key_the_page_uses_is_in_the_catalogs() -> None:
    used = set()
    for module in STATIC.glob("*.js"):
        used |= set(re.findall(r'\bt\(\s*"([\w.-]+)"', module.read_text(encoding="utf-8")))
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    used |= set(re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', html))
    assert len(used) > 50
    assert not used - set(EN), f"not in the catalogs: {sorted(used - set(EN))}"
