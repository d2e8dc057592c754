"""The stream core's targets: one definition for the run's own verdicts and the report's."""

from __future__ import annotations

from typing import Any

from bench import targets
from bench.__main__ import _derive


def _run(numbers: int = 100_000, **parts: Any) -> dict[str, Any]:
    return {"params": {"numbers": numbers}, **parts}


def test_a_latency_with_lost_probes_is_not_met() -> None:
    doc = _run(latency_p99_counting_lost={"idle": 40.0, "bulk": "lost: 3 of 200 probes"})
    assert targets.judge(targets.URGENT_IDLE, doc) is True
    assert targets.judge(targets.URGENT_IMPORT, doc) is False
    assert targets.judge(targets.URGENT_RATIO, doc) is False


def test_import_over_idle_is_judged_on_the_same_run() -> None:
    doc = _run(latency_p99_counting_lost={"idle": 40.0, "bulk": 90.0})
    assert targets.URGENT_RATIO.value(doc) == 2.25
    assert targets.judge(targets.URGENT_RATIO, doc) is False


def test_memory_targets_speak_only_about_a_million_cases() -> None:
    parts = {"memory": {"worker_rss_mib": 342.6}, "gateway": {"rss_mib_at_end": 947.8}}
    small, full = _run(100_000, **parts), _run(1_000_000, **parts)
    assert targets.judge(targets.WORKER_RSS, small) is None
    assert targets.verdict(targets.WORKER_RSS, small).startswith("n/a")
    assert targets.judge(targets.WORKER_RSS, full) is True
    assert targets.judge(targets.GATEWAY_RSS, full) is False


def test_a_phase_not_measured_is_not_judged() -> None:
    assert targets.judge(targets.RESTART, _run()) is None
    assert targets.verdict(targets.RESTART, _run()) == "not measured"


def test_metrics_without_a_number_get_no_verdict_of_their_own() -> None:
    doc = _run(stream={"hotline": {"records_written_per_alert_total": 6.0}})
    assert targets.RECORDS.value(doc) == 6.0
    assert targets.judge(targets.RECORDS, doc) is None
    assert targets.verdict(targets.RECORDS, doc) == ""


def test_a_run_records_a_verdict_for_every_target() -> None:
    doc: dict[str, Any] = {
        "params": {"numbers": 1_000_000},
        "stream": {
            "baseline": [{"records_per_s": 1000.0, "complete": True}],
            "hotline": {"records_per_s": 250.0},
        },
        "latency": {
            "idle": {"raw_post_to_ws_ms": [10.0] * 98 + [45.0, 60.0], "lost": 0},
            "bulk": {"raw_post_to_ws_ms": [100.0] * 98, "lost": 2},
        },
        "memory": {"worker_idle_rss_mib": 90.0, "worker_rss_mib": 240.0, "cases": 1_000_000},
        "gateway": {"rss_mib_at_end": 290.0},
        "restart": {"restart_to_urgent_delivery_s": 3.2},
        "fanout": {"consoles": 1000, "time_to_all_ms": {"max": 190.0}},
    }
    _derive(doc)
    verdicts = {m: t["met"] for m, t in zip(targets.TARGETS, doc["targets"], strict=True)}
    assert verdicts[targets.URGENT_IDLE] is True  # 45 ms: the 99th of 100
    assert verdicts[targets.URGENT_IMPORT] is False  # two lost of 100: no p99
    assert verdicts[targets.STREAM] is True  # 0.25
    assert verdicts[targets.WORKER_RSS] is True
    assert doc["targets"][0]["target"] == "urgent p99 idle, ms (lost probes count) < 50"


def test_lookup_targets_speak_about_a_million_numbers_and_a_wrong_answer_fails() -> None:
    def lookups(registry: int, wrong: int = 0) -> dict[str, Any]:
        phase = {"lookups": 400, "failed": 0, "wrong": wrong, "ms": {"p99_ms": 12.5}}
        return _run(lookup={"registry_numbers": registry, "idle": phase, "bulk": phase})

    assert targets.judge(targets.LOOKUP_IDLE, lookups(120_000)) is None
    assert targets.judge(targets.LOOKUP_IDLE, lookups(1_020_000)) is True
    assert targets.judge(targets.LOOKUP_IMPORT, lookups(1_020_000, wrong=1)) is False
    assert targets.LOOKUP_IDLE.value(lookups(120_000)) == 12.5
