"""The broker's jars: fetched once from Maven Central, cached outside the checkout.

A throwaway POM (`cli/kafka/pom.xml`) names the broker's artifacts; the first run downloads
~42 MB once, and every later start finds them in the cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from hotline.errors import HotlineError

# The one place the Kafka version is named; the POM receives it as -Dkafka.version.
KAFKA_VERSION: str = "4.0.2"

_ASSETS = Path(__file__).with_name("kafka")
_READY_MARKER = ".complete"
_LOG_TAIL_LINES = 40

MAVEN_HINT = "Maven is required to fetch the Kafka jars: install it (e.g. `apt-get install maven`)"


class BrokerError(HotlineError):
    """The local Kafka broker could not be fetched, started or kept running."""

    code = "broker_error"


def default_cache_dir() -> Path:
    """`~/.cache/hotline` (or `$XDG_CACHE_HOME/hotline`): outside the checkout on purpose."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hotline"


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BrokerError(hint)
    return path


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    # Two processes (a test session and `hotline kafka`) may fetch at the same moment.
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def tail(text: str, lines: int = _LOG_TAIL_LINES) -> str:
    return "\n".join(text.splitlines()[-lines:])


def ensure_jars(cache_dir: Path | None = None, version: str = KAFKA_VERSION) -> Path:
    """Return `<cache>/kafka-<version>/lib`, downloading the broker jars the first time."""
    home = (cache_dir or default_cache_dir()) / f"kafka-{version}"
    return fetch_jars(
        home, _ASSETS / "pom.xml", version, f"kafka_2.13-{version}.jar", "Apache Kafka"
    )


def fetch_jars(home: Path, pom: Path, version: str, expected: str, what: str) -> Path:
    """`home/lib`, holding what `pom` names at `version` (checked by the jar `expected`),
    fetched by Maven the first time (the broker's jars; the benchmark's Kafka tools).

    The marker file is written only after Maven succeeded, so an interrupted download is
    wiped and redone on the next call instead of leaving a broken classpath behind.
    """
    lib = home / "lib"
    marker = home / _READY_MARKER
    if marker.is_file():
        return lib
    mvn = require_tool("mvn", MAVEN_HINT)
    home.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(home / ".lock"):
        if marker.is_file():  # another process finished the download while we waited
            return lib
        shutil.rmtree(lib, ignore_errors=True)
        # Run Maven on a copy: the installed package directory may be read-only.
        local_pom = home / "pom.xml"
        shutil.copyfile(pom, local_pom)
        print(
            f"Fetching {what} {version} from Maven Central (first run only)…",
            file=sys.stderr,
            flush=True,
        )
        result = subprocess.run(
            [
                mvn,
                "-B",
                "-q",
                "-Dstyle.color=never",
                f"-Dkafka.version={version}",
                "-f",
                str(local_pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={lib}",
            ],
            cwd=home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not (lib / expected).is_file():
            output = tail(result.stdout + result.stderr)
            raise BrokerError(
                f"Maven could not fetch {what} {version} (exit {result.returncode}):\n{output}"
            )
        marker.write_text(f"{version}\n")
    return lib
