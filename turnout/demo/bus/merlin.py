"""`/merlin`: records of missing persons and of children and adults at risk. SOAP 1.1.

MERLIN was written with another SOAP stack (spyne) than the rest of the bus, and it shows on the
wire: answers come wrapped in `<Op>Result`, lists in array wrappers of `<string>` items
(`linkedRefs/string`), unknown values as `xsi:nil="true"`, dates as `xs:date` and times as
`xs:dateTime` with a `+00:00` offset (whole seconds), the record type and risk level as
attributes. Its faults carry no Header and say what went wrong in a QName faultcode
(`soap:Client.RecordNotFound`), with a `MerlinFault` detail naming the field at fault.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

from lxml import etree

from ...soap import SOAP11, FaultCode, SoapFault, new_envelope, serialise, write_fault
from ..data import (
    MERLIN_RECORD_TYPES,
    MERLIN_RISK_LEVELS,
    DemoStore,
    MerlinRecord,
    NewMerlinRecord,
    StoreError,
    UnknownRecord,
)
from ._codec import Fields, add, add_optional
from ._fault import (
    ACTION_MISMATCH,
    AUTHENTICATION_FAILED,
    FORBIDDEN,
    INVALID_INPUT,
    NO_RECORD,
    SYSTEM_ERROR,
    UNKNOWN_OPERATION,
    UNREADABLE_MESSAGE,
    BusFault,
)
from ._service import BusService

NS = "urn:police:merlin:v1"
PREFIX = "tns"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
RECORD_ID = r"MER/\d{4}/\d{6}"
_PNC_ID = r"\d{2}/\d{6}[A-Z]"
_LINKED_REF = r"(CR|MER)/\d{4}/\d{6}"
_OFFICER = r"[A-Z]{2,4}\d{4}"
_XS_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_XS_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}

#: the bus's error codes -> MERLIN's faultcodes (subcodes of soap:Client, as spyne writes them)
FAULT_CODES: dict[str, str] = {
    NO_RECORD: "Client.RecordNotFound",
    INVALID_INPUT: "Client.ValidationError",
    AUTHENTICATION_FAILED: "Client.AuthenticationError",
    FORBIDDEN: "Client.AuthorizationError",
    UNKNOWN_OPERATION: "Client.MethodNotFound",
    UNREADABLE_MESSAGE: "Client.XmlSyntaxError",
    ACTION_MISMATCH: "Client.SoapActionMismatch",
}

#: store field names -> the request field a caller knows them by
_WIRE_FIELDS = {
    "record_type": "recordType",
    "risk_level": "riskLevel",
    "pnc_id": "pncId",
    "born_on": "dateOfBirth",
    "last_seen_at": "lastSeenAt",
}


def format_datetime(value: datetime) -> str:
    """`2026-03-07T08:05:00+00:00`: xs:dateTime in UTC, whole seconds, as MERLIN writes it."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


# --- reading requests -------------------------------------------------------------------------


def _xs_date(name: str, text: str) -> date:
    if _XS_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise BusFault.invalid(name, f"{name} {text!r} is not a calendar date") from None
    raise BusFault.invalid(name, f"{name} {text!r} is not a date in the form YYYY-MM-DD")


def _xs_datetime(name: str, text: str) -> datetime:
    if _XS_DATETIME.fullmatch(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    raise BusFault.invalid(
        name, f"{name} {text!r} is not a date and time with an offset, e.g. 2026-03-09T21:30:00Z"
    )


def _attribute(fields: Fields, name: str, allowed: tuple[str, ...]) -> str:
    """A required enumeration attribute of the element `fields` reads."""
    text = (fields.element.get(name) or "").strip()
    if not text:
        raise BusFault.invalid(name, f"{name} is required")
    if text not in allowed:
        raise BusFault.invalid(name, f"{name} {text!r} is not one of {', '.join(allowed)}")
    return text


def _linked_refs(fields: Fields) -> tuple[str, ...]:
    wrapper = fields.element.find(f"{{{NS}}}linkedRefs")
    if wrapper is None:
        return ()
    refs = []
    for item in wrapper.iterfind(f"{{{NS}}}string"):
        text = (item.text or "").strip()
        if not re.fullmatch(_LINKED_REF, text):
            raise BusFault.invalid(
                "linkedRefs", f"linkedRefs {text!r} is not in the form CR/2026/000123 or MER/2026/000123"
            )
        refs.append(text)
    return tuple(refs)


def _new_record(fields: Fields) -> NewMerlinRecord:
    """The checks, in MERLIN's order: attributes, subject, sighting, text, links, officer."""
    record = fields.group("record")
    record_type = _attribute(record, "recordType", tuple(MERLIN_RECORD_TYPES))
    risk_level = _attribute(record, "riskLevel", MERLIN_RISK_LEVELS)
    subject = record.group("subject")
    surname = subject.required("surname", max_length=35)
    forenames = subject.required("forenames", max_length=50)
    born_on = _xs_date("dateOfBirth", subject.required("dateOfBirth"))
    pnc_id = subject.optional_matching("pncId", _PNC_ID, "98/120577D")
    seen_text = record.optional("lastSeenAt")
    last_seen_at = None if seen_text is None else _xs_datetime("lastSeenAt", seen_text)
    return NewMerlinRecord(
        record_type=record_type,
        risk_level=risk_level,
        surname=surname,
        forenames=forenames,
        born_on=born_on,
        pnc_id=pnc_id,
        last_seen_at=last_seen_at,
        last_seen_location=record.optional("lastSeenLocation", max_length=120),
        circumstances=record.required("circumstances", max_length=2000),
        linked_refs=_linked_refs(record),
        officer_id=record.matching("reportingOfficer", _OFFICER, "PC1234"),
    )


# --- writing answers ------------------------------------------------------------------------


def _root(name: str) -> etree._Element:
    return etree.Element(f"{{{NS}}}{name}", nsmap={PREFIX: NS, "xsi": XSI})


def _nillable(parent: etree._Element, name: str, text: str | None) -> None:
    """Child `name` with `text`, or `xsi:nil="true"` when there is none."""
    child = add(parent, name, text)
    if text is None:
        child.set(f"{{{XSI}}}nil", "true")


def _subject(parent: etree._Element, record: MerlinRecord) -> None:
    subject = add(parent, "subject")
    add(subject, "surname", record.surname)
    add(subject, "forenames", record.forenames)
    add(subject, "dateOfBirth", record.born_on.isoformat())
    _nillable(subject, "pncId", record.pnc_id)


def _kind(element: etree._Element, record: MerlinRecord) -> etree._Element:
    element.set("recordType", record.record_type)
    element.set("riskLevel", record.risk_level)
    return element


def _record(parent: etree._Element, name: str, record: MerlinRecord) -> None:
    result = _kind(add(parent, name), record)
    add(result, "recordId", record.record_id)
    add(result, "status", record.status)
    _subject(result, record)
    seen = record.last_seen_at
    _nillable(result, "lastSeenAt", format_datetime(seen) if seen else None)
    _nillable(result, "lastSeenLocation", record.last_seen_location)
    add(result, "circumstances", record.circumstances)
    refs = add(result, "linkedRefs")
    for ref in record.linked_refs:
        add(refs, "string", ref)
    add(result, "reportingOfficer", record.officer_id)
    add(result, "reportedAt", format_datetime(record.reported_at))


# --- the operations ---------------------------------------------------------------------------


def create_record(store: DemoStore, fields: Fields) -> etree._Element:
    """A write: files the record and answers with its id, status and time of report."""
    new = _new_record(fields)
    try:
        record = store.create_merlin_record(new)
    except StoreError as error:
        field = _WIRE_FIELDS.get(error.field, error.field)
        if isinstance(error, UnknownRecord):
            raise BusFault.no_record(field, str(error)) from None
        raise BusFault.invalid(field, str(error)) from None
    response = _root("CreateRecordResponse")
    result = add(response, "CreateRecordResult")
    add(result, "recordId", record.record_id)
    add(result, "status", record.status)
    add(result, "reportedAt", format_datetime(record.reported_at))
    return response


def get_record(store: DemoStore, fields: Fields) -> etree._Element:
    """One record by id; an unknown id is a `Client.RecordNotFound` fault."""
    record_id = fields.matching("recordId", RECORD_ID, "MER/2026/000123")
    record = store.merlin_record(record_id)
    if record is None:
        raise BusFault.no_record("recordId", f"no MERLIN record {record_id}")
    response = _root("GetRecordResponse")
    _record(response, "GetRecordResult", record)
    return response


def search_records(store: DemoStore, fields: Fields) -> etree._Element:
    """Records by surname, forenames and date of birth, ranked by score (see
    `turnout.demo.data.merlin_score`); closed ones only with `includeClosed="true"`. No match
    is an empty result, not a fault."""
    flag = (fields.element.get("includeClosed") or "false").strip()
    if flag not in _BOOLEAN:
        raise BusFault.invalid("includeClosed", f"includeClosed {flag!r} is not true or false")
    surname = fields.required("surname", max_length=35)
    forenames = fields.optional("forenames", max_length=50)
    born_text = fields.optional("dateOfBirth")
    born_on = None if born_text is None else _xs_date("dateOfBirth", born_text)
    hits = store.search_merlin(surname, forenames, born_on, include_closed=_BOOLEAN[flag])
    response = _root("SearchRecordsResponse")
    result = add(response, "SearchRecordsResult")
    for hit in hits:
        summary = _kind(add(result, "RecordSummary"), hit.record)
        summary.set("score", str(hit.score))
        add(summary, "recordId", hit.record.record_id)
        add(summary, "status", hit.record.status)
        _subject(summary, hit.record)
    return response


class SpyneEnvelopes:
    """MERLIN's envelopes: a `MessageHeader` (uuid, xs:dateTime) on answers; faults with a
    QName faultcode, a `MerlinFault` detail and no Header."""

    def response(self, service: BusService, payload: etree._Element, now: datetime) -> bytes:
        header = etree.Element(f"{{{NS}}}MessageHeader", nsmap={PREFIX: NS})
        add(header, "messageId", str(uuid.uuid4()))
        add(header, "timestamp", format_datetime(now))
        envelope, body = new_envelope(service.version, {PREFIX: NS}, [header])
        body.append(payload)
        return serialise(envelope)

    def fault(self, service: BusService, fault: BusFault, now: datetime) -> bytes:
        code: FaultCode | etree.QName
        if fault.version_mismatch:
            code = FaultCode.VERSION_MISMATCH
        elif fault.code == SYSTEM_ERROR or not fault.sender:
            code = FaultCode.RECEIVER
        else:
            subcode = FAULT_CODES.get(fault.code, "Client")
            code = etree.QName(service.version.namespace, subcode)
        detail = etree.Element(f"{{{NS}}}MerlinFault", nsmap={PREFIX: NS})
        add_optional(detail, "field", fault.field)
        return write_fault(
            service.version, SoapFault(fault.text, code, detail=(detail,)), {PREFIX: NS}
        )


SERVICE = BusService(
    name="merlin",
    title="MERLIN: missing persons and children and adults at risk",
    version=SOAP11,
    namespace=NS,
    prefix=PREFIX,
    handlers={
        "CreateRecord": create_record,
        "GetRecord": get_record,
        "SearchRecords": search_records,
    },
    envelopes=SpyneEnvelopes(),
)
