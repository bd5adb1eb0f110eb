"""The modern JSON service the translator calls: the same records as the SOAP servers, in JSON.

`GET /records/{reference}` answers `{"reference", "title", "created", "labels"}` (a modern shape,
so the mapping has something to map), or 404 with an RFC 9457 problem.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .records import RECORDS


async def get_record(request: Request) -> JSONResponse:
    reference = request.path_params["reference"]
    found = RECORDS.get(reference)
    if found is None:
        return JSONResponse(
            {"type": "about:blank", "title": "Not Found", "status": 404,
             "detail": f"no record with id {reference}"},
            status_code=404, media_type="application/problem+json",
        )
    return JSONResponse({
        "reference": found["id"],
        "title": found["title"],
        "created": found["created"],
        "labels": found["tags"],
    })


def make_app() -> Starlette:
    return Starlette(routes=[Route("/records/{reference}", get_record)])
