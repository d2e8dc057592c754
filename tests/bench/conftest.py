"""Stored results as bench/results holds them, written into a temporary directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

Store = Callable[..., Path]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """store(label, mode, started, **parts) writes <label>-<mode>.json (or `name`)."""

    def write(label: str, mode: str, started: str, name: str = "", **parts: Any) -> Path:
        doc = {
            "schema": 1,
            "label": label,
            "mode": mode,
            "started_at": f"2026-12-{started}+00:00",
            "params": {"numbers": 1_000_000 if mode == "full" else 100_000},
            "machine": {"code": {"head": "abc1234"}, "cpu_model": "test CPU"},
            **parts,
        }
        path = tmp_path / (name or f"{label}-{mode}.json")
        path.write_bytes(orjson.dumps(doc))
        return path

    return write
