"""PNC enquiries as JSON: `GET /people`, `GET /people/{pncId}`, `GET /vehicles/{vrm}`."""

from __future__ import annotations

import asyncio
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..data import DemoStore, normalise_registration
from ._check import Checker
from ._problem import INVALID_PARAMETERS, NOT_FOUND, Problem, bad_path_param
from .records import person_json, vehicle_json
from .vocab import pnc_id_from_id

_VRM = re.compile(r"[A-Z0-9]{2,10}")


def routes(store: DemoStore) -> list[BaseRoute]:
    async def search_people(request: Request) -> Response:
        """PersonEnquiry: no match is an empty list, in the legacy bus's order."""
        query = dict(request.query_params)
        check = Checker(INVALID_PARAMETERS)
        surname = check.text(query, "surname", "surname", max_length=35)
        forenames = check.text(query, "forenames", "forenames", max_length=50, required=False)
        born_on = check.iso_date(query, "dob", "dob", required=False)
        check.raise_if_invalid()
        assert surname is not None
        if delay := store.source_delay("PNC"):  # the demo switch (MetSearch's slow source)
            await asyncio.sleep(delay)
        people = store.search_people(surname, forenames, born_on)
        return JSONResponse(
            {"total": len(people), "items": [person_json(store, p) for p in people]}
        )

    async def get_person(request: Request) -> Response:
        raw = request.path_params["pncId"]
        pnc_id = pnc_id_from_id(raw)
        if pnc_id is None:
            raise bad_path_param("pncId", f"{raw!r} is not in the form 98-118402B")
        person = store.person(pnc_id)
        if person is None:
            raise Problem(NOT_FOUND, f"no person with PNC id {pnc_id}")
        return JSONResponse(person_json(store, person))

    async def get_vehicle(request: Request) -> Response:
        """VehicleEnquiry: spaces in the mark are ignored, case too."""
        raw = request.path_params["vrm"]
        compact = "".join(raw.split()).upper()
        if not _VRM.fullmatch(compact):
            raise bad_path_param("vrm", f"{raw!r} is not 2 to 10 letters and digits, e.g. TB19XKF")
        vehicle = store.vehicle(compact)
        if vehicle is None:
            mark = normalise_registration(compact)
            raise Problem(NOT_FOUND, f"no vehicle with registration mark {mark}")
        return JSONResponse(vehicle_json(store, vehicle))

    return [
        Route("/people", search_people, methods=["GET"]),
        Route("/people/{pncId}", get_person, methods=["GET"]),
        Route("/vehicles/{vrm}", get_vehicle, methods=["GET"]),
    ]
