"""Crime recording as JSON: `POST /crimes`, `POST /crimes/validate`, `GET /crimes/{crimeId}`,
`GET /crimes?offence=&beat=&page=&pageSize=`, and `GET /crimes?victimSurname=&victimForenames=&victimDob=`
(every crime whose victim is a person found as `GET /people` finds them; MetSearch's CRIS source).

Checks run in the order the legacy bus makes them (shape of every field, then the victim's
record, then the date against the clock), so the first invalid param names the field the legacy
fault would name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..data import BEAT_CODES, Crime, DemoStore, StoreError, UnknownRecord, normalise_postcode
from ._body import read_json_object
from ._check import Checker
from ._problem import (
    INVALID_BODY,
    INVALID_PARAMETERS,
    NOT_FOUND,
    UNKNOWN_REFERENCE,
    InvalidParam,
    Problem,
    bad_path_param,
)
from .records import crime_json, person_name_json
from .vocab import OFFENCES_BY_WORD, crime_reference_from_id, url_id

MAX_PAGE_SIZE = 50
_OFFICER = r"[A-Z]{2}\d{4}"
_BEAT = r"[A-Z0-9]{2,6}"
_KNOWN_BEATS = {beat: beat for beat in BEAT_CODES}

#: store field -> the body field it came from, for store refusals
_BODY_FIELDS = {
    "offence_code": "offence",
    "beat_code": "beat",
    "committed_on": "committed.date",
    "victim_id": "victim.pncId",
}


@dataclass(frozen=True)
class NewCrime:
    """A checked `POST /crimes` body, in the store's terms."""

    offence_code: str
    committed_on: date
    committed_at: time | None
    beat_code: str
    address_line: str
    postcode: str
    summary: str
    officer_id: str
    victim_id: str | None


def read_new_crime(store: DemoStore, body: Mapping[str, Any]) -> NewCrime:
    """The body as a `NewCrime`, or a `Problem` naming every invalid field."""
    check = Checker(INVALID_BODY)
    offence = check.one_of(body, "offence", "offence", OFFENCES_BY_WORD)
    beat = check.one_of(body, "beat", "beat", _KNOWN_BEATS)
    officer = check.matching(body, "officerId", "officerId", _OFFICER, "PC1234")
    committed = check.group(body, "committed", "committed", if_absent="leaves")
    committed_on = check.iso_date(committed, "date", "committed.date")
    committed_at = check.hh_mm(committed, "time", "committed.time")
    address = check.group(body, "address", "address", if_absent="leaves")
    address_line = check.address_line(address, "address.lines", max_length=120)
    postcode = check.text(address, "postcode", "address.postcode", max_length=8)
    summary = check.text(body, "summary", "summary", max_length=2000)
    victim = check.group(body, "victim", "victim", if_absent="skip")
    victim_id = check.text(victim, "pncId", "victim.pncId", max_length=12, required=False)
    check.raise_if_invalid()
    if victim_id is not None and store.person(victim_id) is None:
        reason = f"no person with PNC id {victim_id!r}"
        raise Problem(UNKNOWN_REFERENCE, reason, [InvalidParam("victim.pncId", reason)])
    assert committed_on is not None
    if committed_on > store.now().date():
        check.fail("committed.date", "a crime cannot be committed in the future")
        check.raise_if_invalid()
    assert offence and beat and officer and address_line and postcode and summary
    return NewCrime(
        offence,
        committed_on,
        committed_at,
        beat,
        address_line,
        postcode,
        summary,
        officer,
        victim_id,
    )


def _would_create(store: DemoStore, new: NewCrime) -> Crime:
    """What `create_crime` would record now, without recording it."""
    return Crime(
        reference=store.next_crime_reference(),
        offence_code=new.offence_code,
        committed_on=new.committed_on,
        committed_at=new.committed_at,
        beat_code=new.beat_code,
        address_line=new.address_line,
        postcode=normalise_postcode(new.postcode),
        summary=new.summary,
        officer_id=new.officer_id,
        status="REC",
        recorded_on=store.now().date(),
        victim_id=new.victim_id,
    )


def _store_refusal(error: StoreError) -> Problem:
    """The store refused what we checked (a race, or a rule we do not repeat)."""
    name = _BODY_FIELDS.get(error.field, error.field)
    kind = UNKNOWN_REFERENCE if isinstance(error, UnknownRecord) else INVALID_BODY
    return Problem(kind, str(error), [InvalidParam(name, str(error))])


def routes(store: DemoStore) -> list[BaseRoute]:
    async def create(request: Request) -> Response:
        """CreateCrimeReport: 201, Location, the crime as recorded."""
        new = read_new_crime(store, await read_json_object(request))
        try:
            crime = store.create_crime(**vars(new))
        except StoreError as error:
            raise _store_refusal(error) from None
        location = f"/crimes/{url_id(crime.reference)}"
        return JSONResponse(crime_json(crime), status_code=201, headers={"Location": location})

    async def validate(request: Request) -> Response:
        """The dry-run twin of `create`: same checks, writes nothing."""
        new = read_new_crime(store, await read_json_object(request))
        return JSONResponse({"dryRun": True, "wouldCreate": crime_json(_would_create(store, new))})

    async def get_one(request: Request) -> Response:
        """GetCrimeReport."""
        raw = request.path_params["crimeId"]
        reference = crime_reference_from_id(raw)
        if reference is None:
            raise bad_path_param("crimeId", f"{raw!r} is not in the form CR-2026-000123")
        crime = store.crime(reference)
        if crime is None:
            raise Problem(NOT_FOUND, f"no crime report {reference}")
        return JSONResponse(crime_json(crime))

    async def by_victim(query: dict[str, str]) -> Response:
        """Crimes by their victim's name, reference order, not paged; each with its victim's
        name and date of birth. Waits first when the demo switch makes CRIS slow."""
        check = Checker(INVALID_PARAMETERS)
        for other in ("offence", "beat", "page", "pageSize"):
            if other in query:
                check.fail(other, f"{other} cannot be combined with victimSurname")
        surname = check.text(query, "victimSurname", "victimSurname", max_length=35)
        forenames = check.text(query, "victimForenames", "victimForenames", max_length=50,
                               required=False)
        born_on = check.iso_date(query, "victimDob", "victimDob", required=False)
        check.raise_if_invalid()
        assert surname is not None
        if delay := store.source_delay("CRIS"):
            await asyncio.sleep(delay)
        found = store.search_crimes_by_victim(surname, forenames, born_on)
        items = [{**crime_json(crime), "victim": person_name_json(victim)} for crime, victim in found]
        return JSONResponse({"total": len(items), "items": items})

    async def search(request: Request) -> Response:
        """SearchCrimeReports: reference order, paged as on the bus."""
        query = dict(request.query_params)
        if "victimSurname" in query:
            return await by_victim(query)
        check = Checker(INVALID_PARAMETERS)
        offence = check.one_of(query, "offence", "offence", OFFENCES_BY_WORD, required=False)
        beat = check.matching(query, "beat", "beat", _BEAT, "TN01", required=False)
        if offence is None and beat is None and not check.invalid:
            check.fail("offence", "give an offence, a beat or both")
        page = check.whole(query, "page", default=1, low=1, high=10_000)
        size = check.whole(query, "pageSize", default=10, low=1, high=MAX_PAGE_SIZE)
        check.raise_if_invalid()
        assert page is not None and size is not None
        found = store.search_crimes(offence_code=offence, beat_code=beat, page=page, page_size=size)
        return JSONResponse(
            {
                "total": found.total,
                "page": found.page,
                "pageSize": found.page_size,
                "items": [crime_json(crime) for crime in found.items],
            }
        )

    async def collection(request: Request) -> Response:
        """One route for both methods, so a 405 names them both in `Allow`."""
        return await (create(request) if request.method == "POST" else search(request))

    return [
        Route("/crimes", collection, methods=["GET", "POST"]),
        Route("/crimes/validate", validate, methods=["POST"]),
        Route("/crimes/{crimeId}", get_one, methods=["GET"]),
    ]
