"""`/eforms`: electronic forms, here witness statements. The one SOAP 1.2 service on the bus.

The witness's date of birth travels as `DD/MM/YYYY`; the receipt time as a legacy timestamp.
A statement may carry the witness's signature image (`signature`, xs:base64Binary): sent with
MTOM (an `xop:Include` of an `image/png` or `application/octet-stream` part, which the
dispatcher has put back as base64 text with its media type) or inline; stored as sent.
"""

from __future__ import annotations

import base64
import binascii

from lxml import etree

from ...soap import SOAP12
from ..data import DemoStore, Signature, StoreError
from ._codec import Fields, add, format_timestamp, new_element
from ._fault import BusFault
from ._service import BusService
from ._xop import XMIME_CONTENT_TYPE
from .cris import CRIME_REFERENCE

NS = "urn:police:eforms:v1"
PREFIX = "ef"
_OFFICER = r"[A-Z]{2}\d{4}"


def submit_witness_statement(store: DemoStore, fields: Fields) -> etree._Element:
    """A write: files the statement against an existing crime and answers with its id."""
    witness = fields.group("witness")
    surname = witness.required("surname", max_length=35)
    forenames = witness.required("forenames", max_length=50)
    born_on = witness.ddmmyyyy("dateOfBirth")
    address_line = witness.required("addressLine", max_length=120)
    postcode = witness.required("postcode", max_length=8)
    text = fields.required("statementText", max_length=20_000)
    officer = fields.matching("officerId", _OFFICER, "PC1234")
    reference = fields.matching("crimeReference", CRIME_REFERENCE, "CR/2026/000123")
    signature = _signature(fields)
    try:
        statement = store.add_statement(
            crime_reference=reference,
            surname=surname,
            forenames=forenames,
            born_on=born_on,
            address_line=address_line,
            postcode=postcode,
            text=text,
            officer_id=officer,
            signature=signature,
        )
    except StoreError as error:
        raise BusFault.from_store(error, "crimeReference") from None
    response = new_element(NS, PREFIX, "SubmitWitnessStatementResponse")
    add(response, "statementId", statement.statement_id)
    add(response, "crimeReference", statement.crime_reference)
    add(response, "receivedAt", format_timestamp(statement.received_at))
    return response


def _signature(fields: Fields) -> Signature | None:
    """The optional signature: its bytes (base64 in the element, MTOM already resolved) and
    media type (`xmime:contentType` from its MIME part; octet-stream when sent inline)."""
    node = fields.element.find(f"{{{NS}}}signature")
    text = "".join((node.text or "").split()) if node is not None else ""
    if node is None or not text:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise BusFault.invalid("signature", "signature is not base64") from None
    return Signature(node.get(XMIME_CONTENT_TYPE) or "application/octet-stream", data)


SERVICE = BusService(
    name="eforms",
    title="Electronic forms: witness statements",
    version=SOAP12,
    namespace=NS,
    prefix=PREFIX,
    handlers={"SubmitWitnessStatement": submit_witness_statement},
)
