"""Every message and close code of the console socket `/v1/console/ws`, as models.

gateway/ws.py builds what it sends from these and reads what it receives with them; the
AsyncAPI document (gateway/asyncapi.py) is generated from them, so the two cannot drift.
An alert event is `hotline.models.ConsoleEvent`: the worker writes it, the hub only appends
the cursor to the bytes (the hot path of a bulk import), and tests check that it still
validates as one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Annotated, Any, ClassVar, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)
from pydantic.json_schema import SkipJsonSchema

from hotline.models import ConsoleEvent
from hotline.models import DigestEvent as DigestEvent

AlertEvent = ConsoleEvent
# DigestEvent: a list import's progress for this agency, from one partition of the bulk lane;
# the console adds up an import's partitions (`sender` + `import_id`). Written by the worker
# like an alert event; only the import's hits come as alert events.


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True)
    # Optional fields left out of the frame, rather than sent as null, when they do not apply.
    omit_if_none: ClassVar[frozenset[str]] = frozenset()

    def json_bytes(self) -> bytes:
        doc = self.model_dump(mode="json")
        for name in self.omit_if_none:
            if doc.get(name) is None:
                doc.pop(name, None)
        return orjson.dumps(doc)


# --- client -> gateway --------------------------------------------------------------------------


class Auth(_Message):
    """The first message, within 10 s of opening the socket."""

    type: Literal["auth"]
    token: StrictStr = Field(description="the duty officer's token")
    resume_after: StrictInt | None = Field(
        default=None,
        description="the highest `cursor` received; null for a fresh sign-in (recent events)",
    )


class Ack(_Message):
    """The duty officer acknowledges an alert delivered to their agency."""

    type: Literal["ack"]
    alert_id: str
    case_id: str | None = Field(default=None, description="ignored: the alert's own case counts")


class Ping(_Message):
    type: Literal["ping"]


ClientMessage = Annotated[Ack | Ping, Field(discriminator="type")]
_client_message: Any = ClientMessage  # an Annotated union: a type to pydantic, a value to mypy
client_message_adapter: TypeAdapter[Ack | Ping] = TypeAdapter(_client_message)


# --- gateway -> client --------------------------------------------------------------------------


class AgencyRef(_Message):
    id: str
    name: str


class Welcome(_Message):
    """Signed in; the backlog follows, then `replay_done`."""

    type: Literal["welcome"] = "welcome"
    agency: str
    agency_name: str
    agencies: list[AgencyRef] = Field(description="every agency, for names in the page")
    cursor: int | None = Field(description="the agency's latest event offset, null if none")


class ReplayDone(_Message):
    """The backlog is sent: what follows is live."""

    type: Literal["replay_done"] = "replay_done"
    cursor: int = Field(description="resume after this cursor to miss nothing (-1: nothing yet)")


class AckAccepted(_Message):
    """Kafka stored the acknowledgement; the `acknowledged` event follows."""

    type: Literal["ack_accepted"] = "ack_accepted"
    alert_id: str


class Pong(_Message):
    type: Literal["pong"] = "pong"


ErrorCode = Literal["bad_message", "rate_limited", "unknown_alert", "kafka_unavailable"]


class Error(_Message):
    """A message the gateway could not act on; the socket stays open."""

    omit_if_none = frozenset({"alert_id"})

    type: Literal["error"] = "error"
    code: ErrorCode
    detail: str
    alert_id: str | SkipJsonSchema[None] = Field(
        default=None, description="the acknowledgement that failed, so the page resets just it"
    )


# --- close codes --------------------------------------------------------------------------------


class Close(IntEnum):
    UNAUTHORIZED = 4401
    AUTH_TIMEOUT = 4408
    TRY_AGAIN = 1013
    TOO_BIG = 1009
    SERVER_ERROR = 1011
    RESTARTING = 1012


@dataclass(frozen=True, slots=True)
class CloseDoc:
    reason: str
    client: str  # what the client should do


CLOSE_CODES: dict[Close, CloseDoc] = {
    Close.UNAUTHORIZED: CloseDoc(
        "the first message was not an auth message with a valid officer token",
        "sign out: reconnecting with the same token cannot succeed",
    ),
    Close.AUTH_TIMEOUT: CloseDoc(
        "no auth message within 10 s of opening the socket",
        "reconnect with backoff",
    ),
    Close.TRY_AGAIN: CloseDoc(
        "the client fell behind (or stalled, or history was unreadable)",
        "reconnect at once with `resume_after`",
    ),
    Close.TOO_BIG: CloseDoc(
        "a frame over 64 KiB (closed by the server's WebSocket layer)",
        "do not resend it; reconnect with backoff",
    ),
    Close.SERVER_ERROR: CloseDoc("an unexpected server error", "reconnect with backoff"),
    Close.RESTARTING: CloseDoc("the gateway is shutting down", "reconnect with backoff"),
}


SERVER_MESSAGES: tuple[type[BaseModel], ...] = (
    Welcome,
    AlertEvent,
    DigestEvent,
    ReplayDone,
    AckAccepted,
    Pong,
    Error,
)
CLIENT_MESSAGES: tuple[type[BaseModel], ...] = (Auth, Ack, Ping)


def read_auth(raw: str | bytes) -> Auth | None:
    """The first message if it is a well-formed auth message, else None."""
    try:
        return Auth.model_validate_json(raw)
    except ValidationError:
        return None
