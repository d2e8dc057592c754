"""The console's store folding digest messages (gateway/static/store.js) under Node: one
line per shared list, its partitions added up, a replayed or older message changing nothing.
Skipped without Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from gateway.main import STATIC

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js to run the console's modules")


def digest(partition: int, numbers: int, *, done: bool = False, **kw: Any) -> dict[str, Any]:
    hits = kw.pop("hits", 0)
    known = kw.pop("known", 0)
    return {
        "type": "digest",
        "event": "digest",
        "event_id": f"ev-{partition}-{numbers}-{done}",
        "import_id": kw.pop("import_id", "IMP-1"),
        "sender": kw.pop("sender", "vn-mps"),
        "partition": partition,
        "at": "2026-12-04T09:00:00+00:00",
        "first_at": "2026-12-04T08:59:00+00:00",
        "last_at": kw.pop("last_at", "2026-12-04T09:00:00+00:00"),
        "numbers": numbers,
        "new": numbers - hits - known,
        "known": known,
        "hits": hits,
        "done": done,
        "cursor": kw.pop("cursor", None),
    }


def fold(messages: list[dict[str, Any]]) -> Any:
    assert NODE is not None
    script = (
        "import { Store } from './store.js';"
        "const s = new Store();"
        f"for (const m of {json.dumps(messages)}) s.applyDigest(m);"
        "const out = s.digestList().map((d) => ({import_id: d.importId, sender: d.sender,"
        " ...s.digestTotals(d)}));"
        "const snap = s.snapshot();"
        "console.log(JSON.stringify({lists: out, cursor: s.cursor, kept: snap.digests.length}));"
    )
    done = subprocess.run(
        [NODE, "--no-warnings", "--input-type=module", "-e", script],
        cwd=STATIC,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


def test_partitions_of_one_list_add_up_to_one_line() -> None:
    out = fold([digest(0, 10, hits=1, cursor=4), digest(3, 5, known=2, cursor=7)])
    [line] = out["lists"]
    assert (line["numbers"], line["new"], line["known"], line["hits"]) == (15, 12, 2, 1)
    assert line["done"] is False
    assert out["cursor"] == 7


def test_a_replayed_or_older_count_changes_nothing() -> None:
    out = fold([digest(0, 20, hits=2), digest(0, 10), digest(0, 20, hits=2)])
    [line] = out["lists"]
    assert (line["numbers"], line["hits"]) == (20, 2)
    assert out["kept"] == 1


def test_done_when_every_partition_is_done_and_reopened_by_more() -> None:
    assert fold([digest(0, 10, done=True), digest(1, 4)])["lists"][0]["done"] is False
    assert fold([digest(0, 10, done=True), digest(1, 4, done=True)])["lists"][0]["done"] is True
    reopened = fold([digest(0, 10, done=True), digest(0, 12)])["lists"][0]
    assert (reopened["numbers"], reopened["done"]) == (12, False)
    # the done message of the same count is newer than the running one it follows
    assert fold([digest(0, 10), digest(0, 10, done=True)])["lists"][0]["done"] is True


def test_lists_are_told_apart_by_sender_and_id_latest_first() -> None:
    out = fold(
        [
            digest(0, 3, import_id="weekly", sender="vn-mps", last_at="2026-12-04T08:00:00+00:00"),
            digest(0, 4, import_id="weekly", sender="cn-mps", last_at="2026-12-04T09:00:00+00:00"),
        ]
    )
    assert [(x["sender"], x["numbers"]) for x in out["lists"]] == [("cn-mps", 4), ("vn-mps", 3)]


def test_malformed_messages_are_ignored() -> None:
    bad = digest(0, 3)
    bad.pop("import_id")
    assert fold([bad, {**digest(0, 3), "partition": "x"}])["lists"] == []
