"""The `hotline` command's exit codes and its one-line errors.

A failure an operator can act on (the gateway is down, the file is missing, line 7 is not
JSON, a HOTLINE_* variable is wrong) is one line on standard error and its own exit code,
so a script can tell them apart; a traceback is kept for what is a bug. The codes above 2
follow BSD's sysexits.h where one fits.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # anything else that went wrong
    USAGE = 2  # an unknown option or a missing argument (click's own code)
    REJECTED = 3  # `import` finished, but the gateway rejected some items
    DATA_ERROR = 65  # the input file has a line that cannot be read (EX_DATAERR)
    NO_INPUT = 66  # the input file is missing or unreadable (EX_NOINPUT)
    UNAVAILABLE = 69  # the gateway or Kafka cannot be reached, after retrying (EX_UNAVAILABLE)
    TEMPORARY = 75  # the gateway kept answering 429/503 "retry later" (EX_TEMPFAIL)
    NO_PERMISSION = 77  # the gateway refused the partner key (EX_NOPERM)
    CONFIG = 78  # a HOTLINE_* setting is invalid or missing (EX_CONFIG)


class CommandError(Exception):
    """Ends a command with `error: <message>` on standard error and `code`."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def settings_problem(errors: Iterable[Any], env_prefix: str = "HOTLINE_") -> str:
    """One line for a settings ValidationError's `errors()`, naming the environment variable
    an operator sets (HOTLINE_GATEWAY_PORT), not the field (gateway_port).

    Only pydantic's message is shown, never the input: a key pasted into the wrong variable
    must not end up in a terminal's scrollback or a log.
    """
    parts = []
    for error in errors:
        loc = tuple(str(p) for p in error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        # A model-level check already names its variables; pydantic prefixes it so.
        message = message.removeprefix("Value error, ")
        if loc:
            where = env_prefix + loc[0].upper()
            inner = ".".join(loc[1:])
            parts.append(f"{where}{f' ({inner})' if inner else ''}: {message}")
        else:
            parts.append(message)
    return "invalid configuration: " + "; ".join(parts)
