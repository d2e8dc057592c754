"""The one place where errors become HTTP responses: JSON, a status, never an HTML page."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.alert_in import error_list
from hotline.errors import HotlineError

log = logging.getLogger("hotline.gateway")


class FieldError(BaseModel):
    field: str = Field(description="dotted path of the bad field, or `body`")
    message: str
    type: str = Field(description="a stable code, e.g. `missing`, `date_in_future`")


class ErrorBody(BaseModel):
    """Every error answer. The optional fields are absent, never null, when they do not apply."""

    error: str = Field(description="a stable code: `unauthorized`, `not_found`, `conflict`, ...")
    detail: str = Field(description="one sentence for a person")
    # SkipJsonSchema: the document promises a list when the field is there, not a null.
    errors: list[FieldError] | SkipJsonSchema[None] = Field(
        default=None, description="422: one entry per bad field"
    )
    retry_after: int | SkipJsonSchema[None] = Field(
        default=None, description="429/503: the seconds also sent as `Retry-After`"
    )
    alert_id: str | SkipJsonSchema[None] = Field(
        default=None,
        description="409: the alert that already holds this `source_ref`; 422: the rejected"
        " alert a retry repeats",
    )


_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before retrying",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
_DEFAULT_DESCRIPTIONS = {
    401: "No, unknown or wrong kind of credential (`WWW-Authenticate: Bearer`)",
    404: "Not found",
    409: "`source_ref` already used by this agency for different content",
    413: "Body too large",
    422: "Invalid request: `errors` names each bad field",
    429: "Over the partner's rate; retry after `Retry-After` seconds",
    503: "Kafka did not confirm the write; retry after `Retry-After` seconds",
}


def responses(described: Mapping[int, str | None]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error statuses, all with the ErrorBody model (None: default text)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status, text in described.items():
        doc: dict[str, Any] = {
            "model": ErrorBody,
            "description": text or _DEFAULT_DESCRIPTIONS[status],
        }
        if status in (429, 503):
            doc["headers"] = _RETRY_AFTER
        out[status] = doc
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(HotlineError)
    async def hotline_error(request: Request, exc: HotlineError) -> JSONResponse:
        headers = {}
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if exc.retriable:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        return JSONResponse(exc.to_json(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        body = {
            "error": "invalid_request",
            "detail": "the request is not valid",
            "errors": error_list(exc.errors()),
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": "http_error", "detail": exc.detail},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": "internal_error", "detail": "unexpected server error"}, status_code=500
        )
