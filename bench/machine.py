"""Facts about the machine and the software a run measured, stored with its numbers."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from cli.kafka_jars import KAFKA_VERSION

PACKAGES = (
    "faust-streaming",
    "mode-streaming",
    "aiokafka",
    "fastapi",
    "uvicorn",
    "websockets",
    "orjson",
    "pydantic",
)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024**2, 1)
    return 0.0


def _java_version() -> str:
    try:
        out = subprocess.run(
            ["java", "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    first = (out.stderr or out.stdout).splitlines()
    return first[0] if first else "unknown"


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float]:
    """1/5/15-minute load: how busy the shared machine was around a measurement."""
    return [round(x, 2) for x in os.getloadavg()]


ROOT = Path(__file__).resolve().parent.parent


def code_version() -> dict[str, Any]:
    """Which code was measured: HEAD and the product files changed on top of it."""
    git = ["git", "-C", str(ROOT)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", "hotline", "streams", "gateway", "cli"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {"head": None, "changed_files": []}
    changed = [line[3:] for line in status.stdout.splitlines() if line.strip()]
    return {"head": head.stdout.strip() or None, "changed_files": changed}


def facts() -> dict[str, Any]:
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "mem_total_gib": _mem_total_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "python_impl": platform.python_implementation(),
        "kafka": KAFKA_VERSION,
        "java": _java_version(),
        "packages": {p: v for p in PACKAGES if (v := _version(p)) is not None},
        "load_avg_at_start": load_average(),
        "code": code_version(),
    }
