"""A stand-in for the modern JSON service that replaces the spyne one: the same records, in the
shape a JSON service of today would choose, with no SOAP left in it.

- `GET /records/{recordId}`: `{recordId, risk: "high", name: {family, given}, created,
  lastSeenLocation, linkedRefs: [..]}`, `created` as JavaScript's `toISOString()` writes it
  (`2026-03-01T09:30:00.000Z`: milliseconds always, `Z`), a plain array with no wrapper, and
  `linkedRefs` left out when not known; or 404 with an RFC 9457 problem.
- `GET /records?surname=`: `{"hits": [record, ...]}`.

`calls` counts the requests it answered, so a test can tell the translator really called it.
"""

from __future__ import annotations

import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from .data import RECORDS, search


def _instant(text: str) -> str:
    moment = datetime.datetime.fromisoformat(text).astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def modern_record(found: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "recordId": found["recordId"],
        "risk": found["risk"].lower(),
        "name": {"family": found["surname"], "given": found["forenames"]},
        "created": _instant(found["created"]),
        "lastSeenLocation": found["lastSeenLocation"],
    }
    if found["linkedRefs"] is not None:
        record["linkedRefs"] = list(found["linkedRefs"])
    return record


def make_app() -> Starlette:
    app = Starlette()
    app.state.calls = 0

    async def get_record(request: Request) -> JSONResponse:
        app.state.calls += 1
        record_id = request.path_params["record_id"]
        found = RECORDS.get(record_id)
        if found is None:
            return JSONResponse(
                {"type": "about:blank", "title": "Not Found", "status": 404,
                 "detail": f"no record with id {record_id}"},
                status_code=404, media_type="application/problem+json",
            )
        return JSONResponse(modern_record(found))

    async def search_records(request: Request) -> JSONResponse:
        app.state.calls += 1
        surname = request.query_params.get("surname", "")
        return JSONResponse({"hits": [modern_record(found) for found in search(surname)]})

    app.add_route("/records/{record_id}", get_record)
    app.add_route("/records", search_records)
    return app
