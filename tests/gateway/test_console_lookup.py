"""The console's registry search (gateway/static/lookup.js) under Node: which searches ask the
registry, under which keys, and how answers for several keys merge. Skipped without Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from gateway.main import STATIC

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js to run the console's modules")


def run(script: str) -> Any:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "--no-warnings", "--input-type=module", "-e", script],
        cwd=STATIC,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


def queries(text: str, dob: str = "") -> list[dict[str, str]]:
    found: list[dict[str, str]] = run(
        "import { lookupQueries } from './lookup.js';"
        f"console.log(JSON.stringify(lookupQueries({json.dumps(text)}, {json.dumps(dob)})));"
    )
    return found


def test_digits_ask_for_a_number_and_a_document() -> None:
    assert queries("0912 345 678") == [{"number": "0912 345 678"}, {"document": "0912 345 678"}]
    assert queries("+84 912 345 678") == [{"number": "+84 912 345 678"}]  # never a document


def test_letters_and_digits_ask_for_a_document() -> None:
    assert queries("C1234567") == [{"document": "C1234567"}]


def test_a_name_asks_only_with_a_date_of_birth() -> None:
    assert queries("Нгуен Ван Ан", "1990-02-01") == [
        {"name": "Нгуен Ван Ан", "date_of_birth": "1990-02-01"}
    ]
    assert queries("王建国", "1985-01-01") == [{"name": "王建国", "date_of_birth": "1985-01-01"}]
    assert queries("Nguyen Van An") == []


@pytest.mark.parametrize("text", ["", "  ", "12", "fake investment app", "al-12ab"])
def test_other_searches_stay_in_the_loaded_events(text: str) -> None:
    assert queries(text) == []


def test_answers_for_several_keys_merge_by_case_and_a_422_is_no_failure() -> None:
    script = """
import { lookUp } from './lookup.js';
const answers = {
  number: { status: 200, body: { matches: [{ case_id: "cs-1" }, { case_id: "cs-2" }] } },
  document: { status: 200, body: { matches: [{ case_id: "cs-2" }, { case_id: "cs-3" }] } },
  name: { status: 422, body: { error: "invalid_query" } },
};
const seen = [];
const fake = async (url, init) => {
  seen.push([url, init.headers.Authorization]);
  const kind = new URLSearchParams(url.split("?")[1]).keys().next().value;
  const a = answers[kind];
  return { status: a.status, ok: a.status === 200, json: async () => a.body };
};
const merged = await lookUp("tok", [{ number: "0912" }, { document: "0912" }], fake);
const refused = await lookUp("tok", [{ name: "x", date_of_birth: "1990-01-01" }], fake);
const down = await lookUp("tok", [{ number: "1" }], async () => { throw new Error("down"); });
console.log(JSON.stringify({ merged, refused, down, seen }));
"""
    out = run(script)
    assert [m["case_id"] for m in out["merged"]["matches"]] == ["cs-1", "cs-2", "cs-3"]
    assert out["merged"]["failed"] is False
    assert out["refused"] == {"matches": [], "failed": False}
    assert out["down"] == {"matches": [], "failed": True}
    assert out["seen"][0] == ["/v1/lookup?number=0912", "Bearer tok"]
