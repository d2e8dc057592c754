"""Facts about the machine and the software a run measured, stored with its numbers."""

from __future__ import annotations

import hashlib
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
    "starlette",
    "uvicorn",
    "websockets",
    "httpx",
    "orjson",
    "pydantic",
    "pydantic-core",
    "phonenumbers",
    "uvloop",
    "py-spy",
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
_SOURCES = ("hotline", "streams", "gateway")


def code_version() -> dict[str, Any]:
    """Which code was measured: HEAD, the files changed on top of it, and a digest of every
    source file as it was (several people edit this checkout at once)."""

    def git(*args: str) -> str:
        try:
            out = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return out.stdout.rstrip("\n")

    digests = {}
    for d in _SOURCES:
        h = hashlib.sha256()
        for path in sorted((ROOT / d).rglob("*.py")):
            h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
        digests[d] = h.hexdigest()[:12]
    changed = [
        line[3:]
        for line in git("status", "--porcelain", "--", *_SOURCES).splitlines()
        if line.strip()
    ]
    return {
        "head": git("rev-parse", "--short", "HEAD"),
        "changed_files": changed,
        # Per package: two runs measured the same worker if hotline/ and streams/ match.
        "source_digests": digests,
    }


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
