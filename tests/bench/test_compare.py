"""The before/after table picks, per mode, the newest run and the run it is measured against."""

from __future__ import annotations

from pathlib import Path

from bench import compare, stored
from tests.bench.conftest import Store


def _names(results: Path, mode: str) -> tuple[str, str, bool] | None:
    found = compare.pair(stored.runs(results), mode)
    return (
        None if found is None else (found.old.path.name, found.new.path.name, found.old_is_before)
    )


def test_the_newest_before_run_against_the_newest_run(store: Store, tmp_path: Path) -> None:
    store("before", "default", "01T10:00:00", name="before-default-old.json")
    store("before", "default", "01T12:00:00")
    store("after", "default", "02T10:00:00")
    store("after", "quick", "03T10:00:00")  # another mode: no part of the default pair
    assert _names(tmp_path, "default") == ("before-default.json", "after-default.json", True)


def test_without_a_before_run_the_run_it_replaced(store: Store, tmp_path: Path) -> None:
    store("million", "full", "01T10:00:00")
    store("after", "full", "02T10:00:00")
    assert _names(tmp_path, "full") == ("million-full.json", "after-full.json", False)


def test_a_new_before_run_is_compared_with_the_run_it_replaced(
    store: Store, tmp_path: Path
) -> None:
    store("before", "default", "01T10:00:00", name="before-default-old.json")
    store("after", "default", "02T10:00:00")
    store("before", "default", "03T10:00:00")  # a new round starts
    assert _names(tmp_path, "default") == ("after-default.json", "before-default.json", False)


def test_a_before_run_newer_than_the_rest_is_not_the_before(store: Store, tmp_path: Path) -> None:
    store("after", "full", "01T10:00:00")
    store("before", "full", "02T10:00:00")
    store("million", "full", "03T10:00:00")
    assert _names(tmp_path, "full") == ("before-full.json", "million-full.json", True)


def test_a_single_run_has_nothing_to_compare(store: Store, tmp_path: Path) -> None:
    store("before", "quick", "01T10:00:00")
    assert _names(tmp_path, "quick") is None
    assert "only `before-quick.json`" in compare.block(stored.runs(tmp_path))


def test_the_table_names_both_files_and_judges_the_newer_run(store: Store, tmp_path: Path) -> None:
    store("million", "full", "01T10:00:00", memory={"worker_rss_mib": 2231.1})
    store("after", "full", "02T10:00:00", memory={"worker_rss_mib": 244.0})
    text = compare.block(stored.runs(tmp_path))
    head, _, *rows = text.splitlines()
    assert "full: `million-full.json`" in head and "full: `after-full.json`" in head
    rss = next(r for r in rows if r.startswith("| worker RSS"))
    assert rss.endswith("| 2,231.1 **not met** | 244.0 **met** |")
    assert "the run of this mode it replaced, `million-full.json`" in text


def test_lower_than_before_is_judged_against_the_older_run(store: Store, tmp_path: Path) -> None:
    records = {"hotline": {"records_written_per_alert_total": 7.0}}
    store("before", "default", "01T10:00:00", stream=records)
    store("after", "default", "02T10:00:00", stream={"hotline": {}})
    store("million", "full", "01T10:00:00", stream=records)
    store(
        "after", "full", "02T10:00:00", stream={"hotline": {"records_written_per_alert_total": 6.0}}
    )
    row = next(r for r in compare.block(stored.runs(tmp_path)).splitlines() if "Kafka records" in r)
    assert row.endswith("| 7.00 | not measured | 7.00 | 6.00 **met** |")
