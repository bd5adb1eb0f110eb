"""Geolocation as JSON: `GET /locations?postcode=` or `?address=`, a lookup (one or 404)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..data import DemoStore
from ._check import Checker
from ._problem import INVALID_PARAMETERS, NOT_FOUND, Problem
from .records import location_json


def routes(store: DemoStore) -> list[BaseRoute]:
    async def resolve(request: Request) -> Response:
        """ResolveLocation: a postcode wins over an address, as on the bus."""
        query = dict(request.query_params)
        check = Checker(INVALID_PARAMETERS)
        address = check.text(query, "address", "address", max_length=120, required=False)
        postcode = check.text(query, "postcode", "postcode", max_length=8, required=False)
        if address is None and postcode is None and not check.invalid:
            check.fail("address", "give an address or a postcode")
        check.raise_if_invalid()
        location = store.resolve_location(address_line=address, postcode=postcode)
        if location is None:
            asked = f"postcode {postcode}" if postcode else f"address {address!r}"
            raise Problem(NOT_FOUND, f"no location found for {asked}")
        return JSONResponse(location_json(location))

    return [Route("/locations", resolve, methods=["GET"])]
