"""The broker's own ceiling: Kafka's ProducerPerformance, from the same Kafka version's jars.

The jars come from Maven Central through bench/kafka-tools/pom.xml into
`~/.cache/cli/kafka-tools-<version>/lib`, the same way cli/broker.py fetches the
broker (marker written only after success, a lock against a concurrent fetch).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from cli.kafka_jars import KAFKA_VERSION, BrokerError, default_cache_dir

POM = Path(__file__).with_name("kafka-tools") / "pom.xml"
MAIN = "org.apache.kafka.tools.ProducerPerformance"
_MARKER = ".complete"
_SUMMARY = re.compile(
    r"(?P<records>\d+) records sent, (?P<rps>[\d.]+) records/sec \((?P<mbps>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th, (?P<p999>\d+) ms 99.9th"
)


def ensure_jars(version: str = KAFKA_VERSION) -> Path:
    home = default_cache_dir() / f"kafka-tools-{version}"
    lib = home / "lib"
    if (home / _MARKER).is_file():
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError("Maven is needed to fetch Kafka's perf tools (apt-get install maven)")
    home.mkdir(parents=True, exist_ok=True)
    import fcntl  # noqa: PLC0415 - Linux only, like the rest of the bench

    with (home / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (home / _MARKER).is_file():
            return lib
        shutil.rmtree(lib, ignore_errors=True)
        pom = home / "pom.xml"
        shutil.copyfile(POM, pom)
        result = subprocess.run(
            [
                mvn,
                "-B",
                "-q",
                "-Dstyle.color=never",
                f"-Dkafka.version={version}",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={lib}",
            ],
            cwd=home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not (lib / f"kafka-tools-{version}.jar").is_file():
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
            raise BrokerError(f"Maven could not fetch kafka-tools {version}:\n{tail}")
        (home / _MARKER).write_text(f"{version}\n")
    return lib


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
