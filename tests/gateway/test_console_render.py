"""The console's rendering (gateway/static/rows.js and pane.js) run under Node on a minimal DOM.

Checks what a screenshot cannot show reliably: every piece of partner text is isolated for
bidi, an expired alert says so, and counts are worded by each language's plural rules (the
catalogs are gateway/static/i18n/<lang>.json, read from disk as the page fetches them).
Skipped where Node is not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.main import STATIC

NODE = shutil.which("node")
HARNESS = Path(__file__).with_name("console_harness.mjs")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js to run the console's modules")

P = "שלום"  # right-to-left partner text: everywhere a partner writes, and in agency names
PAST = "2026-01-01T00:00:00Z"
FUTURE = "2999-01-01T00:00:00Z"


def event(n: int, sender: str, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    alert_id = f"al-{n}"
    return {
        "type": "alert",
        "event": "new",
        "event_id": f"ev-{n}",
        "alert_id": alert_id,
        "case_id": f"cs-{n}",
        "at": "2026-11-30T10:00:00Z",
        "alert": {
            "alert_id": alert_id,
            "sender": sender,
            "received_at": "2026-11-30T10:00:00Z",
            "content_hash": "h",
            "lane": "urgent",
            "case_id": f"cs-{n}",
            "body": {
                "source_ref": f"{P}-{n}",
                "msg_type": "alert",
                "severity": "severe",
                "urgency": "expected",
                "tlp": "amber",
                "language": "he",
                "title": f"{P} title {n}",
                "description": f"{P} line one\n{P} line two",
                **body,
            },
            "enrichment": {
                "names": [{"original": f"{P} name", "folded": "shalom name"}],
                "phones": [{"raw": f"{P} 0912", "e164": "+84912345678", "carrier": f"{P} carrier"}],
                "documents": [f"passport:VN:{P}"],
                "indicators": {"urls": [f"https://{P}.example/"]},
            },
        },
        "case": {
            "case_id": f"cs-{n}",
            "kind": body["kind"],
            "opened_at": "2026-11-30T10:00:00Z",
            "updated_at": "2026-11-30T10:00:00Z",
            "reporters": [sender, "ru-moscow"],
            "alert_ids": [alert_id],
        },
        **extra,
    }


WANTED = {
    "kind": "wanted_person",
    "references": f"{P}-0",
    "expires_at": PAST,
    "recipients": ["cn-beijing", "ru-moscow"],
    "subject": {
        "full_name": f"{P} Lê",
        "aliases": [f"{P} alias"],
        "documents": [{"type": f"{P} passport", "number": f"{P}123", "country": "VN"}],
        "offences": [f"{P}_offence"],
        "warrant_ref": f"{P} warrant",
        "interpol_notice": f"{P} notice",
        "last_seen": {"place": f"{P} place", "at": "2026-11-29T10:00:00Z"},
    },
}
FRAUD = {
    "kind": "fraud_pattern",
    "expires_at": FUTURE,
    "subject": {
        "scheme": "investment",
        "modus_operandi": f"{P} modus\n\tstep",
        "indicators": {"app_names": [f"{P} app"], "urls": [f"https://{P}.example/x"]},
    },
}
SCAM = {"kind": "scam_number", "subject": {"number": f"{P} 0965", "scam_type": f"{P}_type"}}

EVENTS = [
    event(1, "vn-hanoi", WANTED),
    event(2, "vn-hanoi", FRAUD),
    event(3, "vn-hanoi", SCAM),
    event(
        4,
        "cn-beijing",
        {**WANTED, "expires_at": FUTURE},
        receipts=[{"agency": "ru-moscow", "delivered_at": "2026-11-30T10:00:01Z"}],
    ),
]
AGENCIES = [
    {"id": "vn-hanoi", "name": f"{P} Hà Nội"},
    {"id": "cn-beijing", "name": f"{P} 北京"},
    {"id": "ru-moscow", "name": f"{P} Москва"},
]


COUNTS = {"announce.caughtUp": [0, 1, 2, 5], "badge.reporters": [1, 2, 3, 5, 11, 21, 22, 1.5]}


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    assert NODE is not None
    arg = json.dumps(
        {"agency": "cn-beijing", "agencies": AGENCIES, "events": EVENTS, "counts": COUNTS}
    )
    done = subprocess.run(
        [NODE, str(HARNESS), arg], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def texts(node: dict[str, Any], parents: tuple[dict[str, Any], ...] = ()) -> Iterator[Any]:
    """(text, its enclosing elements innermost last) for every text node."""
    if "text" in node:
        yield node["text"], parents
        return
    for child in node["children"]:
        yield from texts(child, (*parents, node))


def trees(rendered: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for tab in ("incoming", "sent"):
        for i, pair in enumerate(rendered[tab]):
            yield f"{tab}[{i}].row", pair["row"]
            yield f"{tab}[{i}].detail", pair["detail"]


def test_every_piece_of_partner_text_is_bidi_isolated(rendered: dict[str, Any]) -> None:
    found = 0
    for where, tree in trees(rendered):
        for text, parents in texts(tree):
            if P not in text:
                continue
            found += 1
            holder = parents[-1]
            assert holder["attrs"].get("dir") == "auto", (where, text, holder)
            assert "pt" in holder["attrs"].get("class", "").split(), (where, text, holder)
            # Only the partner's text in that element: labels and times stay outside it.
            assert all("text" in c for c in holder["children"]), (where, text, holder)
    assert found > 40  # the alerts above carry partner text in over forty places


def test_isolated_text_is_isolated_in_css_too() -> None:
    css = (STATIC / "style.css").read_text(encoding="utf-8")
    rule = re.search(r"\.pt\s*\{([^}]*)\}", css)
    assert rule and re.search(r"unicode-bidi:\s*isolate", rule.group(1))


def row_of(rendered: dict[str, Any], alert_id: str) -> dict[str, Any]:
    pairs = [p for tab in ("incoming", "sent") for p in rendered[tab]]
    return next(p for p in pairs if p["row"]["data"]["alertId"] == alert_id)


def classes(tree: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(class attribute, text) of every element."""
    if "text" in tree:
        return
    text = "".join(t for t, _ in texts(tree))
    yield tree["attrs"].get("class", ""), text
    for child in tree["children"]:
        yield from classes(child)


def expired_labels(tree: dict[str, Any]) -> list[str]:
    return [text for cls, text in classes(tree) if "flag-expired" in cls.split()]


def test_an_expired_alert_is_shown_as_expired(rendered: dict[str, Any]) -> None:
    pair = row_of(rendered, "al-1")
    assert pair["row"]["data"].get("expired") == "true"
    assert expired_labels(pair["row"]) == ["Expired"]
    assert expired_labels(pair["detail"]) == ["Expired"]


@pytest.mark.parametrize("alert_id", ["al-2", "al-3", "al-4"])
def test_a_current_alert_is_not_marked_expired(rendered: dict[str, Any], alert_id: str) -> None:
    pair = row_of(rendered, alert_id)
    assert "expired" not in pair["row"]["data"]
    assert expired_labels(pair["row"]) == []
    assert expired_labels(pair["detail"]) == []


def test_expired_is_translated_in_every_language(rendered: dict[str, Any]) -> None:
    labels = rendered["expired"]
    assert set(labels) == {"en", "vi", "ru", "zh"}
    for code, (badge, detail) in labels.items():
        assert badge not in ("", "badge.expired") and detail not in ("", "detail.expired")
        if code != "en":
            assert (badge, detail) != tuple(labels["en"]), code


def test_counts_use_the_plural_rules_of_each_language(rendered: dict[str, Any]) -> None:
    counts = rendered["counts"]
    caught_up = counts["en"]["announce.caughtUp"]
    assert caught_up["1"] == "Up to date. 1 case needs acknowledgement."
    assert caught_up["2"] == "Up to date. 2 cases need acknowledgement."
    assert caught_up["0"] == "Up to date. 0 cases need acknowledgement."
    assert counts["en"]["badge.reporters"]["1"] == "1 agency"
    # Russian: one (1, 21), few (2-4, 22), many (5-20), other (fractions).
    assert counts["ru"]["badge.reporters"] == {
        "1": "1 агентство",
        "2": "2 агентства",
        "3": "3 агентства",
        "5": "5 агентств",
        "11": "11 агентств",
        "21": "21 агентство",
        "22": "22 агентства",
        "1.5": "1,5 агентства",  # a count in Russian digits
    }

    def shown(lang: str, n: str) -> str:  # the count as the language writes it
        return n.replace(".", ",") if lang in ("ru", "vi") else n

    for lang in ("vi", "zh"):  # one form whatever the number
        forms = counts[lang]["badge.reporters"]
        assert len({text.replace(shown(lang, n), "#") for n, text in forms.items()}) == 1, forms
    for lang, by_key in counts.items():
        for key, forms in by_key.items():
            for n, text in forms.items():
                assert shown(lang, n) in text and "{" not in text and text != key, (
                    lang,
                    key,
                    n,
                    text,
                )


def test_a_rendered_count_is_worded_for_its_number(rendered: dict[str, Any]) -> None:
    shown = {text for _, tree in trees(rendered) for text, _ in texts(tree)}
    assert "2 agencies" in shown  # each case above has two reporters
    assert not any(re.search(r"\b1 agencies\b", text) for text in shown)
