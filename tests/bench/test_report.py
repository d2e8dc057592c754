"""docs/benchmarks.md: one section per mode, the newest run of it; the notes kept."""

from __future__ import annotations

from pathlib import Path

from bench import report, stored
from tests.bench.conftest import Store

NOTES = "Why the numbers are what they are.\n\n- a point\n"


def _page(results: Path, notes: str | None = NOTES) -> str:
    return report.render(stored.runs(results), stored.ab_runs(results), notes)


def _sections(page: str) -> list[str]:
    return [line for line in page.splitlines() if line.startswith("## Latest ")]


def test_exactly_one_section_per_mode(store: Store, tmp_path: Path) -> None:
    store("before", "default", "01T10:00:00")
    store("after", "default", "02T10:00:00")
    store("after", "full", "02T11:00:00")
    assert _sections(_page(tmp_path)) == [
        "## Latest quick run",
        "## Latest default run: `after-default.json`",
        "## Latest full run: `after-full.json`",
    ]


def test_a_newer_run_of_a_mode_replaces_its_section(store: Store, tmp_path: Path) -> None:
    store("before", "default", "01T10:00:00")
    doc = tmp_path / "benchmarks.md"
    report.write(tmp_path, doc)
    assert "## Latest default run: `before-default.json`" in doc.read_text()
    store("after", "default", "02T10:00:00")
    report.write(tmp_path, doc)
    page = doc.read_text()
    assert _sections(page)[1] == "## Latest default run: `after-default.json`"
    assert page.count("## Latest default run") == 1
    assert "Label `before`" not in page  # the older run survives only in the before/after table


def test_the_notes_are_kept_and_a_rebuild_changes_nothing(store: Store, tmp_path: Path) -> None:
    store("after", "full", "02T10:00:00")
    doc = tmp_path / "benchmarks.md"
    doc.write_text(_page(tmp_path))
    report.write(tmp_path, doc)
    first = doc.read_text()
    report.write(tmp_path, doc)
    assert doc.read_text() == first
    assert report.notes_of(first) == NOTES


def test_text_outside_the_notes_is_not_carried_over(store: Store, tmp_path: Path) -> None:
    store("after", "full", "02T10:00:00")
    doc = tmp_path / "benchmarks.md"
    doc.write_text(_page(tmp_path) + "\n## Findings of some round\n\nold news\n")
    report.write(tmp_path, doc)
    assert "old news" not in doc.read_text()


def test_one_line_per_ab_run(store: Store, tmp_path: Path) -> None:
    ab = {"kind": "ab", "numbers": 20_000, "worker_env_b": {"PRODUCER_LINGER": "0.005"}}
    store("", "", "01T10:00:00", name="ab-linger.json", summary={"b_over_a": 1.12}, **ab)
    page = _page(tmp_path)
    lines = [line for line in page.splitlines() if line.startswith("- `ab-linger.json`")]
    assert len(lines) == 1 and "`PRODUCER_LINGER=0.005`" in lines[0] and "1.12×" in lines[0]
    assert "ab-linger.json" not in "".join(_sections(page))


def test_the_page_is_built_from_the_stored_results() -> None:
    """docs/benchmarks.md is what `python -m bench --report-only` makes of bench/results."""
    page = report.DOC.read_text()
    assert report.render(stored.runs(), stored.ab_runs(), report.notes_of(page)) == page


def test_a_new_run_leaves_only_what_the_page_shows_stored(store: Store, tmp_path: Path) -> None:
    old_before = store("before", "default", "01T10:00:00", name="before-default-old.json")
    before = store("before", "default", "02T10:00:00")
    tried = store("tried", "default", "03T10:00:00")
    latest = store("after", "default", "04T10:00:00")
    replaced = store("first", "full", "01T10:00:00")
    full = store("second", "full", "02T10:00:00")
    gone_full = store("zeroth", "full", "01T09:00:00")
    ab = store("x", "default", "03T11:00:00", name="ab-x.json", kind="ab")
    (tmp_path / "tried-default.speedscope.json").write_text("{}")
    (tmp_path / "after-default.speedscope.json").write_text("{}")
    (tmp_path / "worker.speedscope.json").write_text("{}")
    page = _page(tmp_path)
    removed = stored.prune(tmp_path)
    assert set(removed) == {
        old_before,
        tried,
        gone_full,
        tmp_path / "tried-default.speedscope.json",
        tmp_path / "worker.speedscope.json",
    }
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {
        p.name
        for p in (before, latest, replaced, full, ab, tmp_path / "after-default.speedscope.json")
    }
    assert _page(tmp_path) == page  # the page shows the same runs as before the prune
