"""The broker's own ceiling: Kafka's ProducerPerformance, from the same Kafka version's jars.

The jars come from Maven Central through bench/kafka-tools/pom.xml into
`~/.cache/hotline/kafka-tools-<version>/lib`, by the same fetch as the broker's
(cli/kafka_jars.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from cli.kafka_jars import KAFKA_VERSION, BrokerError, default_cache_dir, fetch_jars

POM = Path(__file__).with_name("kafka-tools") / "pom.xml"
MAIN = "org.apache.kafka.tools.ProducerPerformance"
_SUMMARY = re.compile(
    r"(?P<records>\d+) records sent, (?P<rps>[\d.]+) records/sec \((?P<mbps>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th, (?P<p999>\d+) ms 99.9th"
)


def ensure_jars(version: str = KAFKA_VERSION) -> Path:
    home = default_cache_dir() / f"kafka-tools-{version}"
    return fetch_jars(home, POM, version, f"kafka-tools-{version}.jar", "Kafka's perf tools")


def producer_performance(
    bootstrap: str, topic: str, records: int, record_size: int, timeout: float = 600.0
) -> dict[str, Any]:
    """Runs ProducerPerformance with acks=all, unthrottled; returns its summary line parsed."""
    lib = ensure_jars()
    java = shutil.which("java")
    if java is None:
        raise BrokerError("Java is needed for Kafka's ProducerPerformance")
    cmd = [
        java,
        "-Xmx512m",
        "-cp",
        f"{lib}/*",
        MAIN,
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--record-size",
        str(record_size),
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={bootstrap}",
        "acks=all",
    ]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )
    match = None
    for line in out.stdout.splitlines():
        match = _SUMMARY.search(line) or match
    if out.returncode != 0 or match is None:
        raise RuntimeError(f"ProducerPerformance failed ({out.returncode}):\n{out.stderr[-2000:]}")
    g = match.groupdict()
    return {
        "command": " ".join(
            ["ProducerPerformance", *cmd[cmd.index(MAIN) + 1 :]]
        ),  # without the classpath
        "records": int(g["records"]),
        "record_size": record_size,
        "records_per_s": float(g["rps"]),
        "mb_per_s": float(g["mbps"]),
        "avg_latency_ms": float(g["avg"]),
        "p50_ms": int(g["p50"]),
        "p99_ms": int(g["p99"]),
        "max_latency_ms": float(g["max"]),
    }
