"""docs/benchmarks.md: one column per mode, its newest run; the notes kept."""

from __future__ import annotations

from pathlib import Path

from bench import report, targets
from tests.bench.conftest import Store

NOTES = "Why the numbers are what they are.\n\n- a point\n"


def _page(results: Path, notes: str | None = NOTES) -> str:
    return report.render(report.runs(results), notes)


def _row(page: str, label: str) -> list[str]:
    line = next(line for line in page.splitlines() if line.startswith(f"| {label} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_each_mode_has_a_column_and_a_missing_run_says_so(store: Store, tmp_path: Path) -> None:
    store("full", "02T11:00:00", latency={"idle": {"raw_post_to_ws_ms": [10.0] * 100}})
    page = _page(tmp_path)
    assert _row(page, "")[:5] == ["", "target", "quick", "default", "full"]
    assert _row(page, targets.URGENT_IDLE.label)[1:] == ["< 50", "", "", "10.0 **met**"]
    assert "| quick | `python -m bench --quick` | none stored yet |" in page


def test_a_newer_run_of_a_mode_replaces_its_column(store: Store, tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    store("default", "01T10:00:00", restart={"restart_to_urgent_delivery_s": 12.0})
    report.write(tmp_path, doc)
    assert _row(doc.read_text(), targets.RESTART.label)[3] == "12.0 **not met**"
    store("default", "02T10:00:00", restart={"restart_to_urgent_delivery_s": 3.5})
    report.write(tmp_path, doc)
    page = doc.read_text()
    assert _row(page, targets.RESTART.label)[3] == "3.50 **met**"
    assert "2026-12-02T10:00" in page and "2026-12-01T10:00" not in page


def test_a_target_for_full_scale_is_not_judged_on_a_smaller_run(
    store: Store, tmp_path: Path
) -> None:
    store("default", "01T10:00:00", memory={"worker_rss_mib": 900.0})
    assert _row(_page(tmp_path), targets.WORKER_RSS.label)[3] == "900.0 n/a (smaller run)"


def test_the_notes_are_kept_and_a_rebuild_changes_nothing(store: Store, tmp_path: Path) -> None:
    store("full", "02T10:00:00")
    doc = tmp_path / "benchmarks.md"
    doc.write_text(_page(tmp_path))
    report.write(tmp_path, doc)
    first = doc.read_text()
    report.write(tmp_path, doc)
    assert doc.read_text() == first
    assert report.notes_of(first) == NOTES


def test_text_outside_the_notes_is_not_carried_over(store: Store, tmp_path: Path) -> None:
    store("full", "02T10:00:00")
    doc = tmp_path / "benchmarks.md"
    doc.write_text(_page(tmp_path) + "\n## Findings of some round\n\nold news\n")
    report.write(tmp_path, doc)
    assert "old news" not in doc.read_text()


def test_the_page_is_built_from_the_stored_results() -> None:
    """docs/benchmarks.md is what `python -m bench --report-only` makes of bench/results."""
    page = report.DOC.read_text()
    assert report.render(report.runs(), report.notes_of(page)) == page


def test_only_the_latest_run_of_each_mode_is_stored() -> None:
    assert {p.name for p in report.RESULTS.iterdir()} <= {f"{m}.json" for m in report.MODES}
