"""Asks the urgent-lane workers' registry page for the cases a lookup leads to.

Any worker will do (one that does not hold the key passes the question on), so the
configured addresses are tried in turn, starting after the last one that failed: a worker
down or restarting costs the caller one short timeout once, not every lookup.
"""

from __future__ import annotations

import logging

import httpx
from pydantic import ValidationError

from hotline.errors import RegistryUnavailable
from hotline.models import CaseRecord
from hotline.registry import (
    TOKEN_HEADER,
    DocumentQuery,
    NumberQuery,
    PersonQuery,
    RegistryAnswer,
    RegistryRequest,
    internal_token,
)
from hotline.settings import Settings

log = logging.getLogger("hotline.gateway")

TIMEOUT_S = 2.0


class RegistryClient:
    def __init__(self, settings: Settings) -> None:
        self._urls = settings.registry_targets
        self._next = 0
        self._headers = {TOKEN_HEADER: internal_token(settings.id_key)}
        self._client: httpx.AsyncClient | None = None

    async def cases(self, query: NumberQuery | DocumentQuery | PersonQuery) -> list[CaseRecord]:
        """Every stored case the query leads to, whole; RegistryUnavailable if no worker answers."""
        body = RegistryRequest(query=query).model_dump_json()
        why = "no registry address configured"
        for i in range(len(self._urls)):
            at = (self._next + i) % len(self._urls)
            url = self._urls[at]
            try:
                response = await self._http().post(
                    f"{url}/registry/lookup", content=body, headers=self._headers
                )
            except httpx.HTTPError as exc:
                why = f"{url} did not answer ({type(exc).__name__})"
                continue
            if response.status_code != 200:
                why = f"{url} answered {response.status_code}: {response.text[:200]}"
                continue
            try:
                answer = RegistryAnswer.model_validate_json(response.content)
            except ValidationError:
                why = f"{url} answered something that is not a registry answer"
                continue
            self._next = at
            return answer.cases
        self._next = (self._next + 1) % len(self._urls)
        log.warning("registry lookup failed: %s", why)
        raise RegistryUnavailable("the registry cannot be read right now; retry", retry_after=1)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT_S)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
