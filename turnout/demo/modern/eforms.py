"""Witness statements as JSON: `POST /statements`, `POST /statements/validate`,
`GET /statements/{statementId}`.

Checks run in the order the legacy bus makes them, so the first invalid param names the field
the legacy fault would name. A statement may carry the witness's signature image as
`signature: {contentType, data}`, `data` its bytes in base64 (what the bus receives as an MTOM
attachment); it is stored as sent and answered back on `GET`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..data import (
    DemoStore,
    Signature,
    StoreError,
    UnknownRecord,
    WitnessStatement,
    normalise_postcode,
)
from ._body import read_json_object
from ._check import Checker
from ._problem import (
    INVALID_BODY,
    NOT_FOUND,
    UNKNOWN_REFERENCE,
    InvalidParam,
    Problem,
    bad_path_param,
)
from .records import statement_json
from .vocab import statement_id_from_id, url_id

_OFFICER = r"[A-Z]{2}\d{4}"
_CRIME_REFERENCE = r"CR/\d{4}/\d{6}"


@dataclass(frozen=True)
class NewStatement:
    """A checked `POST /statements` body, in the store's terms."""

    crime_reference: str
    surname: str
    forenames: str
    born_on: date
    address_line: str
    postcode: str
    text: str
    officer_id: str
    signature: Signature | None = None


def _signature(check: Checker, body: Mapping[str, Any]) -> Signature | None:
    """The optional `signature: {contentType, data}`; `data` must be base64."""
    value = body.get("signature")
    if value is None:
        return None
    if not isinstance(value, Mapping):
        check.fail("signature", "signature must be an object {contentType, data}")
        return None
    content_type = value.get("contentType") or "application/octet-stream"
    data = value.get("data")
    if data is None or data == "":  # an empty value counts as absent, as on the legacy bus
        return None
    if not isinstance(content_type, str) or not isinstance(data, str):
        check.fail("signature", "signature's contentType and data must be strings")
        return None
    try:
        return Signature(content_type, base64.b64decode(data, validate=True))
    except binascii.Error:
        check.fail("signature.data", "signature is not base64")
        return None


def read_new_statement(store: DemoStore, body: Mapping[str, Any]) -> NewStatement:
    """The body as a `NewStatement`, or a `Problem` naming every invalid field."""
    check = Checker(INVALID_BODY)
    witness = check.group(body, "witness", "witness")
    name = check.group(witness, "name", "witness.name", if_absent="leaves")
    surname = check.text(name, "family", "witness.name.family", max_length=35)
    forenames = check.text(name, "given", "witness.name.given", max_length=50)
    born_on = check.iso_date(witness, "dateOfBirth", "witness.dateOfBirth")
    address = check.group(witness, "address", "witness.address", if_absent="leaves")
    address_line = check.address_line(address, "witness.address.lines", max_length=120)
    postcode = check.text(address, "postcode", "witness.address.postcode", max_length=8)
    text = check.text(body, "text", "text", max_length=20_000)
    officer = check.matching(body, "officerId", "officerId", _OFFICER, "PC1234")
    reference = check.matching(
        body, "crimeReference", "crimeReference", _CRIME_REFERENCE, "CR/2026/000123"
    )
    signature = _signature(check, body)
    check.raise_if_invalid()
    assert reference and surname and forenames and born_on and address_line and postcode
    assert text and officer
    crime = store.crime(reference)
    if crime is None:
        reason = f"no crime with reference {reference!r}"
        raise Problem(UNKNOWN_REFERENCE, reason, [InvalidParam("crimeReference", reason)])
    return NewStatement(
        crime.reference, surname, forenames, born_on, address_line, postcode, text, officer,
        signature,
    )


def _would_create(store: DemoStore, new: NewStatement) -> WitnessStatement:
    """What `add_statement` would file now, without filing it."""
    return WitnessStatement(
        statement_id=store.next_statement_id(),
        crime_reference=new.crime_reference,
        surname=new.surname,
        forenames=new.forenames,
        born_on=new.born_on,
        address_line=new.address_line,
        postcode=normalise_postcode(new.postcode),
        text=new.text,
        officer_id=new.officer_id,
        received_at=store.now(),
        signature=new.signature,
    )


def routes(store: DemoStore) -> list[BaseRoute]:
    async def submit(request: Request) -> Response:
        """SubmitWitnessStatement: 201, Location, the statement as filed."""
        new = read_new_statement(store, await read_json_object(request))
        try:
            statement = store.add_statement(**vars(new))
        except StoreError as error:
            kind = UNKNOWN_REFERENCE if isinstance(error, UnknownRecord) else INVALID_BODY
            raise Problem(kind, str(error), [InvalidParam("crimeReference", str(error))]) from None
        location = f"/statements/{url_id(statement.statement_id)}"
        return JSONResponse(
            statement_json(statement), status_code=201, headers={"Location": location}
        )

    async def validate(request: Request) -> Response:
        """The dry-run twin of `submit`: same checks, writes nothing."""
        new = read_new_statement(store, await read_json_object(request))
        would = statement_json(_would_create(store, new))
        return JSONResponse({"dryRun": True, "wouldCreate": would})

    async def get_one(request: Request) -> Response:
        raw = request.path_params["statementId"]
        statement_id = statement_id_from_id(raw)
        if statement_id is None:
            raise bad_path_param("statementId", f"{raw!r} is not in the form WS-2026-000001")
        statement = store.statement(statement_id)
        if statement is None:
            raise Problem(NOT_FOUND, f"no witness statement {statement_id}")
        return JSONResponse(statement_json(statement))

    return [
        Route("/statements", submit, methods=["POST"]),
        Route("/statements/validate", validate, methods=["POST"]),
        Route("/statements/{statementId}", get_one, methods=["GET"]),
    ]
