"""Child processes of a launcher (`hotline up`, the local broker, the benchmark): started in a
session of their own, dying with their parent, stopped together.

PR_SET_PDEATHSIG covers the case where the launcher is killed outright, when nothing else
would stop its children.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

PR_SET_PDEATHSIG = 1
# A worker asked to stop exits within 10 s (streams/runner.py); this is the margin past it.
CHILD_STOP_S = 12.0


def die_with_parent() -> None:
    """For `preexec_fn`: the child gets SIGTERM when the process (thread) that started it dies,
    even by SIGKILL — a process in a session of its own would otherwise outlive it."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    args: Sequence[str], env: dict[str, str], log: Path | None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """`args` in a session of its own (a Ctrl-C in the terminal reaches the launcher only,
    which stops the children in order), its output appended to `log` (else inherited)."""
    out: IO[bytes] | int | None = None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        out = log.open("ab")
    try:
        return subprocess.Popen(
            list(args),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if log is not None else None,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - no threads yet
        )
    finally:
        if not isinstance(out, int | None):
            out.close()  # the child holds its own descriptor


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    """One child, as stop_all; None (never started) is already stopped."""
    if proc is not None:
        stop_all([proc], timeout)


def stop_all(procs: Sequence[subprocess.Popen[bytes]], timeout: float = CHILD_STOP_S) -> None:
    """SIGTERM to all at once, SIGKILL to whatever still runs after `timeout` seconds."""
    running = [p for p in procs if p.poll() is None]
    for p in running:
        with contextlib.suppress(ProcessLookupError):
            p.terminate()
    deadline = time.monotonic() + timeout
    for p in running:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
