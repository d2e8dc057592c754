"""The alert rules under Prometheus' own tool: `promtool check rules` (syntax, templates) and
`promtool test rules` (deploy/prometheus/rules.test.yml: every alert fires when it should, with
its labels and annotations, and stays quiet when it should).

promtool is Debian's `prometheus` package; `scripts/setup --browser` (run by `make test`)
installs it. Without it the two promtool tests are skipped, the coverage check still runs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "rules.test.yml"
PROMTOOL = shutil.which("promtool")

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (apt-get install prometheus)"
)


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def _alerts() -> set[str]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return {rule["alert"] for group in doc["groups"] for rule in group["rules"]}


def _cases() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    return [case for test in doc["tests"] for case in test.get("alert_rule_test", [])]


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    cases = _cases()
    fires = {c["alertname"] for c in cases if c.get("exp_alerts")}
    quiet = {c["alertname"] for c in cases if not c.get("exp_alerts")}
    assert not _alerts() - fires, f"no test where these fire: {sorted(_alerts() - fires)}"
    assert not _alerts() - quiet, f"no test where these stay quiet: {sorted(_alerts() - quiet)}"
    assert not (fires | quiet) - _alerts(), "tests for alerts rules.yml does not define"


@needs_promtool
def test_promtool_check_rules() -> None:
    result = _promtool("check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_test_rules() -> None:
    result = _promtool("test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_a_broken_rule_fails_its_unit_test(tmp_path: Path) -> None:
    """The check can fail: the same tests against a rule that waits too long."""
    rules = RULES.read_text(encoding="utf-8")
    broken = rules.replace("== 0\n        for: 5m", "== 0\n        for: 30m", 1)
    assert broken != rules, "HotlineNoActiveWorker no longer looks as this test expects"
    (tmp_path / "rules.yml").write_text(broken, encoding="utf-8")
    shutil.copy(RULE_TESTS, tmp_path / "rules.test.yml")
    result = _promtool("test", "rules", tmp_path / "rules.test.yml")
    assert result.returncode != 0
    assert "HotlineNoActiveWorker" in result.stdout + result.stderr
