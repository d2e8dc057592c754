"""One error root for the hotline; behaviour lives in class flags, not in except-lists.

The gateway maps every `HotlineError` to an HTTP status and a JSON body in one handler
(`gateway/errors.py`). `retriable` is what a caller's retry policy runs on: a retriable error
always says when to try again (`retry_after`, sent as the `Retry-After` header too), which is
what the partner clients (cli/importer.py, the demo, `hotline numbers sync`) wait for; any
other error is final. The stream's own Kafka writes retry on Kafka's errors
(streams/errors.py), which never become a HotlineError.
"""

from __future__ import annotations

from typing import Any, ClassVar


class HotlineError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    retriable: ClassVar[bool] = False
    # The wait a retriable error names when its raiser knows no better one.
    retry_after_s: ClassVar[int] = 1

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if self.retriable:
            extra.setdefault("retry_after", self.retry_after_s)
        self.extra = extra

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.detail, **self.extra}


class ConfigError(HotlineError):
    """Settings or topics a process cannot run with: the operator must fix them first."""

    code = "config_error"


class Unauthorized(HotlineError):
    status_code = 401
    code = "unauthorized"


class NotFound(HotlineError):
    status_code = 404
    code = "not_found"


class Forbidden(HotlineError):
    """The caller may see what it names but may not do this with it."""

    status_code = 403
    code = "forbidden"


class Conflict(HotlineError):
    status_code = 409
    code = "conflict"


class InvalidAlert(HotlineError):
    status_code = 422
    code = "invalid_alert"


class PayloadTooLarge(HotlineError):
    status_code = 413
    code = "payload_too_large"


class RateLimited(HotlineError):
    status_code = 429
    code = "rate_limited"
    retriable = True


class UnwritableRecord(HotlineError):
    """Kafka refuses an output for good (its size): retrying cannot help; reject the input."""

    code = "unwritable_record"


class KafkaUnavailable(HotlineError):
    """The write could not be made durable: the partner must retry, never assume success."""

    status_code = 503
    code = "kafka_unavailable"
    retriable = True


class IntakeUnavailable(HotlineError):
    """The gateway's batch validators could not run (a worker process died): retry later."""

    status_code = 503
    code = "intake_unavailable"
    retriable = True


class InvalidOutcome(HotlineError):
    """An outcome report that names no known kind, or a note that is not plain text."""

    status_code = 422
    code = "invalid_outcome"


class InvalidQuery(HotlineError):
    """A lookup the registry cannot key (an unparseable number, a name without a birth date)."""

    status_code = 422
    code = "invalid_query"


class RegistryUnavailable(HotlineError):
    """No urgent-lane worker answered a lookup (none running, or its partitions moving)."""

    status_code = 503
    code = "registry_unavailable"
    retriable = True
