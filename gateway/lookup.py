"""GET /v1/lookup: does anyone on the hotline know this number, document or person?"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from hotline import need_to_know as ntk
from hotline import registry
from hotline.codec import dumps
from hotline.registry import LookupAnswer

from . import audit_reporter, errors
from .deps import Reader, ServicesDep

router = APIRouter(prefix="/v1", tags=["lookup"])

Param = Annotated[str | None, Query()]


@router.get(
    "/lookup",
    response_model=LookupAnswer,
    operation_id="lookup",
    responses=errors.responses(
        {
            401: "No or unknown partner key or officer token",
            422: "The query names no number, document or person, or cannot be read",
            503: "The registry cannot be read right now (its workers are starting or moving)",
        }
    ),
)
async def lookup(
    agency: Reader,
    services: ServicesDep,
    number: Annotated[
        str | None,
        Query(
            description="A phone number, in any format; without a country code it is "
            "dialled from the caller's country"
        ),
    ] = None,
    document: Annotated[
        str | None, Query(description="An identity document's number, spaces and dashes aside")
    ] = None,
    country: Annotated[
        str | None, Query(description="With `document`: the issuing country (ISO 3166-1 alpha-2)")
    ] = None,
    doc_type: Annotated[
        str | None, Query(alias="type", description="With `document`: passport, national_id, …")
    ] = None,
    name: Annotated[
        str | None, Query(description="A person's full name, in any script (with date_of_birth)")
    ] = None,
    date_of_birth: Annotated[str | None, Query(description="With `name`: YYYY-MM-DD")] = None,
) -> Response:
    """The cases shared with the caller that hold it, each with the reports and alerts the
    caller may see. Nothing visible and nothing known look the same: `"matches": []`."""
    query = registry.parse(
        region=services.settings.agency(agency).country,
        number=number,
        document=document,
        country=country,
        doc_type=doc_type,
        name=name,
        date_of_birth=date_of_birth,
    )
    cases = await services.registry.cases(query)
    matches = [m for c in cases if (m := ntk.lookup_match(agency, c, services.known.state))]
    services.reporter.report(
        audit_reporter.looked_up(agency, query, len(matches), datetime.now(UTC))
    )
    return Response(
        dumps(LookupAnswer(query=query, matches=matches)), media_type="application/json"
    )
