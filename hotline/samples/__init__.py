"""Sample alerts from the three agencies: what `hotline demo` sends, and where the API
document takes its examples from (gateway/contract.py). One file, so the examples are alerts
the demo has shown to be accepted."""

from __future__ import annotations

from pathlib import Path

SAMPLE_ALERTS: Path = Path(__file__).with_name("alerts.jsonl")
