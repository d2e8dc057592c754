"""One error root for the hotline; behaviour lives in class flags, not in except-lists.

The gateway maps every `HotlineError` to an HTTP status and a JSON body in one handler
(`gateway/errors.py`); stream agents ask `retriable` instead of listing types.
"""

from __future__ import annotations

from typing import Any, ClassVar


class HotlineError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    retriable: ClassVar[bool] = False

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.detail, **self.extra}


class ConfigError(HotlineError):
    code = "config_error"


class Unauthorized(HotlineError):
    status_code = 401
    code = "unauthorized"


class NotFound(HotlineError):
    status_code = 404
    code = "not_found"


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


class InvalidQuery(HotlineError):
    """A lookup the registry cannot key (an unparseable number, a name without a birth date)."""

    status_code = 422
    code = "invalid_query"


class RegistryUnavailable(HotlineError):
    """No urgent-lane worker answered a lookup (none running, or its partitions moving)."""

    status_code = 503
    code = "registry_unavailable"
    retriable = True
