"""orjson in and out of the models: the only serialization used on Kafka and on sockets."""

from __future__ import annotations

from typing import TypeVar

import orjson
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def dumps(model: BaseModel) -> bytes:
    # exclude_none keeps records small; every optional field has None as its default.
    return orjson.dumps(model.model_dump(mode="json", exclude_none=True))


def loads(cls: type[M], data: bytes | str) -> M:
    return cls.model_validate_json(data)
