"""MERLIN as JSON: `POST /records`, `POST /records/validate`, `GET /records/{recordId}`,
`GET /records?surname=&forenames=&dob=&includeClosed=` (ranked hits with a score).

Records of missing persons and of children and adults at risk, in the services' conventions
(docs/modern-services.md): words for codes, ISO dates, UTC timestamps ending in `Z`, `null` for
what is not known, `[]` for no links. Checks run in the order the legacy bus makes them, so the
first invalid param names the field the legacy fault would name.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..data import DemoStore, MerlinHit, MerlinRecord, NewMerlinRecord, StoreError, UnknownRecord
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
from .vocab import iso_date, iso_timestamp, url_id

Json = dict[str, Any]

#: MERLIN's codes (the store's, the legacy bus's) -> the JSON words
RECORD_TYPES: dict[str, str] = {
    "MISSING": "missing",
    "CHILD_AT_RISK": "child-at-risk",
    "ADULT_AT_RISK": "adult-at-risk",
}
RISK_LEVELS: dict[str, str] = {"LOW": "low", "MEDIUM": "medium", "HIGH": "high", "CRITICAL": "critical"}
RECORD_STATUSES: dict[str, str] = {"OPEN": "open", "FOUND": "found", "CLOSED": "closed"}
RECORD_TYPES_BY_WORD = {word: code for code, word in RECORD_TYPES.items()}
RISK_LEVELS_BY_WORD = {word: code for code, word in RISK_LEVELS.items()}

_RECORD_ID = re.compile(r"MER-(\d{4})-(\d{6})", re.IGNORECASE)
_PNC_ID = r"\d{2}/\d{6}[A-Z]"
_LINKED_REF = re.compile(r"(CR|MER)/\d{4}/\d{6}")
_OFFICER = r"[A-Z]{2,4}\d{4}"
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
_FLAGS = {"true": True, "false": False}

#: store field -> the body field it came from, for store refusals
_BODY_FIELDS = {
    "record_type": "type",
    "risk_level": "risk",
    "pnc_id": "subject.pncId",
    "born_on": "subject.dateOfBirth",
    "last_seen_at": "lastSeen.at",
}


def record_id_from_id(record_id: str) -> str | None:
    """`mer-2026-000001` -> `MER/2026/000001`; None when it is not a MERLIN record id."""
    match = _RECORD_ID.fullmatch(record_id.strip())
    return None if match is None else "MER/{}/{}".format(*match.groups())


def subject_json(record: MerlinRecord) -> Json:
    return {
        "name": {"given": record.forenames, "family": record.surname},
        "dateOfBirth": iso_date(record.born_on),
        "pncId": record.pnc_id,
    }


def summary_json(record: MerlinRecord) -> Json:
    """What a search hit carries: who, what kind of record, how much risk, where it stands."""
    return {
        "recordId": record.record_id,
        "id": url_id(record.record_id),
        "type": RECORD_TYPES[record.record_type],
        "risk": RISK_LEVELS[record.risk_level],
        "status": RECORD_STATUSES[record.status],
        "subject": subject_json(record),
    }


def record_json(record: MerlinRecord) -> Json:
    seen = record.last_seen_at
    return {
        **summary_json(record),
        "lastSeen": {
            "at": iso_timestamp(seen) if seen else None,
            "location": record.last_seen_location,
        },
        "circumstances": record.circumstances,
        "linkedRefs": list(record.linked_refs),
        "officerId": record.officer_id,
        "reportedAt": iso_timestamp(record.reported_at),
    }


def hit_json(hit: MerlinHit) -> Json:
    return {"score": hit.score, "record": summary_json(hit.record)}


def _timestamp(check: Checker, data: Mapping[str, Any] | None, key: str, name: str) -> datetime | None:
    """An optional ISO 8601 timestamp with a `Z` or `+HH:MM` offset."""
    text = check.text(data, key, name, max_length=40, required=False)
    if text is None:
        return None
    if _TIMESTAMP.fullmatch(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    check.fail(name, f"{text!r} is not a timestamp in the form 2026-03-09T21:30:00Z")
    return None


def _linked_refs(check: Checker, body: Mapping[str, Any]) -> tuple[str, ...]:
    refs = body.get("linkedRefs")
    if refs is None:
        return ()
    if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
        check.fail("linkedRefs", "must be a list of strings")
        return ()
    for ref in refs:
        if not _LINKED_REF.fullmatch(ref.strip()):
            check.fail("linkedRefs", f"{ref!r} is not in the form CR/2026/000123 or MER/2026/000123")
            return ()
    return tuple(ref.strip() for ref in refs)


def read_new_record(body: Mapping[str, Any]) -> NewMerlinRecord:
    """The body as a `NewMerlinRecord`, or a `Problem` naming every invalid field."""
    check = Checker(INVALID_BODY)
    record_type = check.one_of(body, "type", "type", RECORD_TYPES_BY_WORD)
    risk_level = check.one_of(body, "risk", "risk", RISK_LEVELS_BY_WORD)
    subject = check.group(body, "subject", "subject", if_absent="leaves")
    name = check.group(subject, "name", "subject.name", if_absent="leaves")
    surname = check.text(name, "family", "subject.name.family", max_length=35)
    forenames = check.text(name, "given", "subject.name.given", max_length=50)
    born_on = check.iso_date(subject, "dateOfBirth", "subject.dateOfBirth")
    pnc_id = check.matching(subject, "pncId", "subject.pncId", _PNC_ID, "98/120577D", required=False)
    seen = check.group(body, "lastSeen", "lastSeen", if_absent="skip")
    last_seen_at = _timestamp(check, seen, "at", "lastSeen.at")
    location = check.text(seen, "location", "lastSeen.location", max_length=120, required=False)
    circumstances = check.text(body, "circumstances", "circumstances", max_length=2000)
    linked_refs = _linked_refs(check, body)
    officer = check.matching(body, "officerId", "officerId", _OFFICER, "PC1234")
    check.raise_if_invalid()
    assert record_type and risk_level and surname and forenames and born_on
    assert circumstances and officer
    return NewMerlinRecord(
        record_type=record_type,
        risk_level=risk_level,
        surname=surname,
        forenames=forenames,
        born_on=born_on,
        circumstances=circumstances,
        officer_id=officer,
        pnc_id=pnc_id,
        last_seen_at=last_seen_at,
        last_seen_location=location,
        linked_refs=linked_refs,
    )


def _store_refusal(error: StoreError) -> Problem:
    """The store refused what we checked: an unknown PNC person, a date in the future."""
    name = _BODY_FIELDS.get(error.field, error.field)
    kind = UNKNOWN_REFERENCE if isinstance(error, UnknownRecord) else INVALID_BODY
    return Problem(kind, str(error), [InvalidParam(name, str(error))])


def routes(store: DemoStore) -> list[BaseRoute]:
    async def create(request: Request) -> Response:
        """CreateRecord: 201, Location, the record as filed."""
        new = read_new_record(await read_json_object(request))
        try:
            record = store.create_merlin_record(new)
        except StoreError as error:
            raise _store_refusal(error) from None
        location = f"/records/{url_id(record.record_id)}"
        return JSONResponse(record_json(record), status_code=201, headers={"Location": location})

    async def validate(request: Request) -> Response:
        """The dry-run twin of `create`: same checks, files nothing."""
        new = read_new_record(await read_json_object(request))
        try:
            record = store.preview_merlin_record(new)
        except StoreError as error:
            raise _store_refusal(error) from None
        return JSONResponse({"dryRun": True, "wouldCreate": record_json(record)})

    async def get_one(request: Request) -> Response:
        """GetRecord."""
        raw = request.path_params["recordId"]
        record_id = record_id_from_id(raw)
        if record_id is None:
            raise bad_path_param("recordId", f"{raw!r} is not in the form MER-2026-000123")
        record = store.merlin_record(record_id)
        if record is None:
            raise Problem(NOT_FOUND, f"no MERLIN record {record_id}")
        return JSONResponse(record_json(record))

    async def search(request: Request) -> Response:
        """SearchRecords: hits ranked by score, best first, then by record id."""
        query = dict(request.query_params)
        check = Checker(INVALID_PARAMETERS)
        include_closed = check.one_of(query, "includeClosed", "includeClosed",
                                      {"true": "true", "false": "false"}, required=False)
        surname = check.text(query, "surname", "surname", max_length=35)
        forenames = check.text(query, "forenames", "forenames", max_length=50, required=False)
        born_on = check.iso_date(query, "dob", "dob", required=False)
        check.raise_if_invalid()
        assert surname is not None
        if delay := store.source_delay("MERLIN"):  # the demo switch (MetSearch's slow source)
            await asyncio.sleep(delay)
        hits = store.search_merlin(
            surname, forenames, born_on, include_closed=_FLAGS[include_closed or "false"]
        )
        return JSONResponse({"total": len(hits), "hits": [hit_json(hit) for hit in hits]})

    async def collection(request: Request) -> Response:
        """One route for both methods, so a 405 names them both in `Allow`."""
        return await (create(request) if request.method == "POST" else search(request))

    return [
        Route("/records", collection, methods=["GET", "POST"]),
        Route("/records/validate", validate, methods=["POST"]),
        Route("/records/{recordId}", get_one, methods=["GET"]),
    ]
