"""The urgent-lane worker's registry page: POST /registry/lookup, for the gateways only.

Each urgent worker holds some partitions of the case index. A gateway asks any of them; one
that does not hold the query's partition passes the request once to the worker that does
(Faust's assignment says who: every member publishes its web address with its partitions),
so lookups keep working with any number of workers and gateways. The answer is the whole
stored cases: the gateway decides what its caller may see (hotline.need_to_know), as it does
for every read. So the page answers only a caller showing the deployment's internal token.
"""

from __future__ import annotations

import logging
from typing import Any

import faust
import httpx
from pydantic import ValidationError

from hotline.codec import dumps
from hotline.registry import TOKEN_HEADER, RegistryAnswer, RegistryRequest, token_ok
from hotline.settings import Settings
from streams import registry
from streams.case_tables import CaseTables

log = logging.getLogger("hotline.worker")

FORWARDED_HEADER = "X-Hotline-Forwarded"  # set on the one pass to the partition's owner
FORWARD_TIMEOUT_S = 2.0
INDEX_TABLE = "cases"  # whose assignment says who holds an index partition


def install(app: faust.App, settings: Settings, t: CaseTables) -> None:
    key = settings.id_key
    client = httpx.AsyncClient(timeout=FORWARD_TIMEOUT_S)  # one connection pool per worker

    @app.page("/registry/lookup")
    class Lookup(faust.web.View):
        async def post(self, request: Any) -> Any:
            if not token_ok(request.headers.get(TOKEN_HEADER), key):
                return self.json({"error": "unauthorized"}, status=401)
            body = await request.read()
            try:
                query = RegistryRequest.model_validate_json(body).query
            except ValidationError as exc:
                return self.json({"error": "invalid_query", "detail": str(exc)}, status=422)
            if not app.tables.recovery.completed.is_set():  # type: ignore[attr-defined]
                return _unavailable(self, "recovering its tables")
            where = registry.home(t, query)
            if t.homes.owns(where):
                answer = RegistryAnswer(cases=registry.lookup(t, query))
                return self.bytes(dumps(answer), content_type="application/json")
            if request.headers.get(FORWARDED_HEADER):
                return _unavailable(self, f"index partition {where} is moving")
            token = request.headers[TOKEN_HEADER]
            return await _forward(self, app, client, where, body, token)

    _ = Lookup


async def _forward(
    view: Any, app: faust.App, client: httpx.AsyncClient, where: int, body: bytes, token: str
) -> Any:
    url = _owner(app, where)
    if url is None:
        return _unavailable(view, f"no worker holds index partition {where} now")
    try:
        response = await client.post(
            f"{url.rstrip('/')}/registry/lookup",
            content=body,
            headers={TOKEN_HEADER: token, FORWARDED_HEADER: "1"},
        )
    except httpx.HTTPError as exc:
        log.warning("registry lookup: %s did not answer: %s", url, exc)
        return _unavailable(view, f"the worker holding index partition {where} did not answer")
    return view.bytes(
        response.content, content_type="application/json", status=response.status_code
    )


def _owner(app: faust.App, where: int) -> str | None:
    for url, held in app.router.table_metadata(INDEX_TABLE).items():
        if any(where in partitions for partitions in held.values()):
            return str(url)
    return None


def _unavailable(view: Any, why: str) -> Any:
    return view.json(
        {"error": "registry_unavailable", "detail": why}, status=503, headers={"Retry-After": "1"}
    )
