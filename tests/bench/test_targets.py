"""The stream core's targets: one definition for the run's own verdicts and the report's."""

from __future__ import annotations

from typing import Any

from bench import targets
from bench.__main__ import _derive


def _run(numbers: int = 100_000, **parts: Any) -> dict[str, Any]:
    return {"params": {"numbers": numbers}, **parts}


def _latency(idle: list[float], bulk: list[float], bulk_lost: int = 0) -> dict[str, Any]:
    return {
        "idle": {"raw_post_to_ws_ms": idle, "lost": 0},
        "bulk": {"raw_post_to_ws_ms": bulk, "lost": bulk_lost},
    }


def test_a_latency_with_lost_probes_is_not_met() -> None:
    doc = _run(latency=_latency([40.0] * 200, [40.0] * 197, bulk_lost=3))
    assert targets.judge(targets.URGENT_IDLE, doc) is True
    assert targets.judge(targets.URGENT_IMPORT, doc) is False
    assert targets.judge(targets.URGENT_RATIO, doc) is False


def test_import_over_idle_is_judged_on_the_same_run() -> None:
    doc = _run(latency=_latency([40.0] * 100, [90.0] * 100))
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
    per_record = next(m for m in targets.MEASUREMENTS if "CPU per bulk alert" in m.label)
    doc = _run(stream={"hotline": {"worker_cpu_us_per_record": 410.0}})
    assert per_record.value(doc) == 410.0
    assert targets.judge(per_record, doc) is None
    assert targets.verdict(per_record, doc) == ""


def test_records_per_number_is_held_to_two() -> None:
    def written(n: float) -> dict[str, Any]:
        return _run(stream={"hotline": {"records_written_per_alert_total": n}})

    assert targets.judge(targets.RECORDS, written(2.0)) is True
    assert targets.judge(targets.RECORDS, written(6.6)) is False


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
    assert verdicts[targets.STREAM] is False  # 0.25 of the passthrough, where 0.5 is asked
    assert verdicts[targets.WORKER_RSS] is True
    assert doc["targets"][0]["target"] == "urgent p99 idle, ms < 50"


def test_lookup_targets_speak_about_a_million_numbers_and_a_wrong_answer_fails() -> None:
    def lookups(registry: int, wrong: int = 0) -> dict[str, Any]:
        phase = {"lookups": 400, "failed": 0, "wrong": wrong, "ms": {"p99_ms": 12.5}}
        return _run(lookup={"registry_numbers": registry, "idle": phase, "bulk": phase})

    assert targets.judge(targets.LOOKUP_IDLE, lookups(120_000)) is None
    assert targets.judge(targets.LOOKUP_IDLE, lookups(1_020_000)) is True
    assert targets.judge(targets.LOOKUP_IMPORT, lookups(1_020_000, wrong=1)) is False
    assert targets.LOOKUP_IDLE.value(lookups(120_000)) == 12.5


def test_console_messages_are_judged_only_for_a_million_delivered() -> None:
    def imported(posted: int, delivered: int, messages: int) -> dict[str, Any]:
        during = {
            "import_size": posted,
            "import_alerts_delivered_while_probing": delivered,
            "import_console_messages": messages,
        }
        return _run(latency={"bulk": {"bulk_during_probes": during}})

    assert targets.judge(targets.CONSOLE_MESSAGES, imported(1_000_000, 1_493, 16)) is None
    assert targets.judge(targets.CONSOLE_MESSAGES, imported(1_000_000, 1_000_000, 480)) is True
    assert targets.judge(targets.CONSOLE_MESSAGES, imported(1_000_000, 1_000_000, 2_600)) is False
