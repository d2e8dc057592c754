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
    """store(mode, started, **parts) writes <mode>.json, as a run of that mode does."""

    def write(mode: str, started: str, **parts: Any) -> Path:
        doc = {
            "schema": 2,
            "mode": mode,
            "started_at": f"2026-12-{started}+00:00",
            "params": {"numbers": 1_000_000 if mode == "full" else 100_000},
            "machine": {"code": {"head": "abc1234"}, "cpu_model": "test CPU", "nproc": 2},
            **parts,
        }
        path = tmp_path / f"{mode}.json"
        path.write_bytes(orjson.dumps(doc))
        return path

    return write
