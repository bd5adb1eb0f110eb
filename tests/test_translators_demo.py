"""The demo's translators against the real thing: for each operation, the same SOAP request goes
to the legacy bus and through translator -> modern JSON service -> translator, and the two
answers must be the same envelope, fault for fault, except the MessageHeader's messageId and
timestamp. The translated answer must also be valid against the service's XSD.

Reads share one store between the two sides. Writes get a fresh store on each side, with the
same clock, so both sides allocate the same references and stamp the same times.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

import pytest
import requests
from lxml import etree

from turnout.demo import DemoStore, ServerThread, make_legacy_app
from turnout.demo.bus import SERVICES
from turnout.demo.bus.documents import load_schema
from turnout.demo.modern import make_modern_app
from turnout.demo.translators import DIRECTORY
from turnout.soap import parse_xml, read_envelope
from turnout.translators import (
    Answered,
    JsonReply,
    RequestRejected,
    SoapReply,
    TranslationError,
    TranslatorSet,
    load_translators,
)

from .support.asgi import SwappableApp

SERVICE = {service.name: service for service in SERVICES}
NOW = datetime(2026, 3, 10, 9, 15, 2, tzinfo=UTC)
VOLATILE = ("messageId", "timestamp")


# --- servers: one legacy bus and one modern app for the module, fresh stores per test --------


@dataclass
class Sides:
    translators: TranslatorSet
    legacy_url: str
    modern_url: str
    legacy_store: DemoStore
    modern_store: DemoStore
    session: requests.Session

    # -- the two paths ------------------------------------------------------------------------

    def legacy(self, path: str, body: bytes, content_type: str) -> SoapReply:
        response = self.session.post(
            self.legacy_url + path, data=body, headers={"Content-Type": content_type}, timeout=10
        )
        return SoapReply(response.status_code, response.headers["content-type"], response.content)

    def translated(self, path: str, body: bytes, *, dry_run: bool = False) -> SoapReply:
        request = read_envelope(body, path)
        translator = self.translators.for_operation(request.operation.key)
        assert translator is not None, request.operation.key
        try:
            call = translator.to_call(request, dry_run=dry_run)
        except TranslationError as error:
            assert error.reply is not None, f"no answer from the translator: {error}"
            return error.reply
        response = self.session.request(
            call.method,
            self.modern_url + call.path,
            params=list(call.query),
            headers=dict(call.headers),
            json=call.body if call.body is not None else None,
            timeout=10,
        )
        reply = JsonReply(response.status_code, tuple(response.headers.items()), response.json())
        return translator.to_reply(reply, request)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, SwappableApp, str, SwappableApp]]:
    legacy_app, modern_app = SwappableApp(), SwappableApp()
    with ServerThread(legacy_app) as legacy, ServerThread(modern_app) as modern:
        yield legacy.url, legacy_app, modern.url, modern_app


@pytest.fixture(scope="module")
def translators() -> TranslatorSet:
    return load_translators(DIRECTORY)


def _sides(servers: Any, translators: TranslatorSet, shared: bool) -> Iterator[Sides]:
    legacy_url, legacy_app, modern_url, modern_app = servers
    legacy_store = DemoStore(clock=lambda: NOW)
    modern_store = legacy_store if shared else DemoStore(clock=lambda: NOW)
    legacy_app.target = make_legacy_app(legacy_store)
    modern_app.target = make_modern_app(modern_store)
    with requests.Session() as session:
        try:
            yield Sides(
                translators, legacy_url, modern_url, legacy_store, modern_store, session
            )
        finally:
            legacy_app.target = modern_app.target = None


@pytest.fixture
def sides(servers: Any, translators: TranslatorSet) -> Iterator[Sides]:
    """Both sides over one store: for reads."""
    yield from _sides(servers, translators, shared=True)


@pytest.fixture
def write_sides(servers: Any, translators: TranslatorSet) -> Iterator[Sides]:
    """Each side over its own fresh store with the same clock: for writes."""
    yield from _sides(servers, translators, shared=False)


# --- requests and comparison -------------------------------------------------------------------

_SOAP = {
    "1.1": ("http://schemas.xmlsoap.org/soap/envelope/", "text/xml; charset=utf-8"),
    "1.2": ("http://www.w3.org/2003/05/soap-envelope", "application/soap+xml; charset=utf-8"),
}
_VERSION = {"pnc": "1.1", "cris": "1.1", "geo": "1.1", "eforms": "1.2"}


def _children(fields: dict[str, Any]) -> str:
    parts = []
    for name, value in fields.items():
        if value is None:
            continue
        inner = _children(value) if isinstance(value, dict) else escape(str(value))
        parts.append(f"<s:{name}>{inner}</s:{name}>")
    return "".join(parts)


def soap_request(service: str, operation: str, **fields: Any) -> bytes:
    """A request envelope as a client would write it (its own prefixes, not the bus's)."""
    soap_ns, _ = _SOAP[_VERSION[service]]
    namespace = SERVICE[service].namespace
    return (
        f'<env:Envelope xmlns:env="{soap_ns}"><env:Body>'
        f'<s:{operation} xmlns:s="{namespace}">{_children(fields)}</s:{operation}>'
        f"</env:Body></env:Envelope>"
    ).encode()


def canonical(data: bytes) -> str:
    """The envelope in C14N 2.0, insignificant whitespace stripped, volatile header text blanked."""
    root = parse_xml(data)
    for element in root.iter(*(f"{{*}}{name}" for name in VOLATILE)):
        if etree.QName(element.getparent()).localname == "MessageHeader":
            element.text = "volatile"
    return str(etree.tostring(root, method="c14n2", strip_text=True).decode())


def assert_valid(service_name: str, reply: SoapReply) -> None:
    """The translated header and payload (or fault detail) are valid against the XSD."""
    service = SERVICE[service_name]
    schema = load_schema(service)
    root = parse_xml(reply.body)
    soap_ns = service.version.namespace
    header = root.find(f"{{{soap_ns}}}Header/{{{service.namespace}}}MessageHeader")
    payload = root.find(f"{{{soap_ns}}}Body")[0]
    assert header is not None
    schema.assertValid(parse_xml(etree.tostring(header)))
    if etree.QName(payload).localname == "Fault":
        detail = payload.find(f".//{{{service.namespace}}}ServiceFault")
        assert detail is not None
        schema.assertValid(parse_xml(etree.tostring(detail)))
    else:
        schema.assertValid(parse_xml(etree.tostring(payload)))


def assert_same(sides: Sides, service: str, operation: str, **fields: Any) -> SoapReply:
    """Legacy and translated answers are the same envelope; returns the translated one."""
    body = soap_request(service, operation, **fields)
    _, content_type = _SOAP[_VERSION[service]]
    legacy = sides.legacy(f"/{service}", body, content_type)
    translated = sides.translated(f"/{service}", body)
    assert canonical(translated.body) == canonical(legacy.body)
    assert (translated.status, translated.content_type) == (legacy.status, legacy.content_type)
    assert_valid(service, translated)
    return translated


def error_code(reply: SoapReply) -> str | None:
    code: str | None = parse_xml(reply.body).findtext(".//{*}ServiceFault/{*}errorCode")
    return code


# --- pnc -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"surname": "Thistlewood"},
        {"surname": "THISTLEWOOD", "forenames": "Barnaby"},
        {"surname": "Penhallow", "dateOfBirth": "09/05/1975"},
        {"surname": "Marchbank"},
        {"surname": "ashgrove", "forenames": "win"},
        {"surname": "Blackthorn"},
        {"surname": "Drummond-Vale", "dateOfBirth": "29/02/1968"},
        {"surname": "  Lindqvist-Hart  ", "forenames": ""},
        {"surname": "Zzyzx-Nonesuch"},
    ],
    ids=lambda fields: "-".join(str(v).strip() or "blank" for v in fields.values()),
)
def test_person_enquiry_matches_legacy(sides: Sides, fields: dict[str, str]) -> None:
    reply = assert_same(sides, "pnc", "PersonEnquiry", **fields)
    assert reply.status == 200


@pytest.mark.parametrize(
    "fields",
    [
        {"surname": "Golightly", "dateOfBirth": "1965-09-30"},
        {"surname": "Ormerod", "dateOfBirth": "31/02/1958"},
        {"surname": "Ormerod", "dateOfBirth": "6/1/1958"},
        {"forenames": "Percival"},
        {"surname": "   "},
        {"surname": "X" * 36},
        {"surname": "Ormerod", "forenames": "P" * 51},
    ],
    ids=["iso-date", "no-such-day", "short-date", "no-surname", "blank-surname",
         "long-surname", "long-forenames"],
)
def test_person_enquiry_invalid_input_faults_like_legacy(
    sides: Sides, fields: dict[str, str]
) -> None:
    reply = assert_same(sides, "pnc", "PersonEnquiry", **fields)
    assert reply.status == 500 and error_code(reply) == "INVAL"


@pytest.mark.parametrize(
    "mark", ["TB19 XKF", "tb21qpa", "TB12DVH", " TB66 JKF ", "TB17 ZRC", "tb 70 hnw"]
)
def test_vehicle_enquiry_matches_legacy(sides: Sides, mark: str) -> None:
    assert assert_same(sides, "pnc", "VehicleEnquiry", registrationMark=mark).status == 200


@pytest.mark.parametrize("mark", ["ZZ99 ZZZ", "tb00non", "TB00  NON"])
def test_unknown_vehicle_faults_like_legacy(sides: Sides, mark: str) -> None:
    reply = assert_same(sides, "pnc", "VehicleEnquiry", registrationMark=mark)
    assert error_code(reply) == "NOREC"


@pytest.mark.parametrize("mark", ["T", "TB19-XKF", "TB19 XKF 1234", None, ""])
def test_invalid_registration_faults_like_legacy(sides: Sides, mark: str | None) -> None:
    reply = assert_same(sides, "pnc", "VehicleEnquiry", registrationMark=mark)
    assert error_code(reply) == "INVAL"


def test_vehicle_without_keeper_leaves_keeper_out(sides: Sides) -> None:
    """`keeper` is null in JSON when the keeper is not on record: the element is omitted."""
    vehicle = sides.legacy_store._vehicles["TB19 XKF"]
    sides.legacy_store._vehicles["TB19 XKF"] = type(vehicle)(
        **{**vehicle.__dict__, "keeper_id": "98/000000Z"}
    )
    reply = assert_same(sides, "pnc", "VehicleEnquiry", registrationMark="TB19 XKF")
    assert parse_xml(reply.body).find(".//{*}keeper") is None


# --- geo -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"postcode": "TB1 4LX"},
        {"postcode": "tb14lx"},
        {"addressLine": "14 larkspur close turnbridge"},
        {"addressLine": "Flat 6, Marchbank House, Turnbridge"},
        {"addressLine": "nowhere at all", "postcode": "TB3 9WS"},
    ],
)
def test_resolve_location_matches_legacy(sides: Sides, fields: dict[str, str]) -> None:
    assert assert_same(sides, "geo", "ResolveLocation", **fields).status == 200


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"postcode": "TB9 9ZZ"}, "NOREC"),
        ({"addressLine": "1 Nowhere Street"}, "NOREC"),
        ({"addressLine": "14 Larkspur Close", "postcode": "TB9 9ZZ"}, "NOREC"),
        ({}, "INVAL"),
        ({"addressLine": "  ", "postcode": ""}, "INVAL"),
        ({"postcode": "TB1 4LX 99"}, "INVAL"),
        ({"addressLine": "A" * 121, "postcode": "TB1 4LX"}, "INVAL"),
    ],
    ids=["unknown-postcode", "unknown-address", "postcode-wins", "neither", "blank",
         "long-postcode", "long-address"],
)
def test_resolve_location_faults_like_legacy(
    sides: Sides, fields: dict[str, str], code: str
) -> None:
    assert error_code(assert_same(sides, "geo", "ResolveLocation", **fields)) == code


# --- cris: reads ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    ["CR/2026/000101", "CR/2026/000103", "CR/2026/000105", " CR/2026/000110 "],
    ids=["victim-and-time", "no-time", "no-victim", "padded"],
)
def test_get_crime_report_matches_legacy(sides: Sides, reference: str) -> None:
    assert assert_same(sides, "cris", "GetCrimeReport", crimeReference=reference).status == 200


@pytest.mark.parametrize(
    ("reference", "code"),
    [("CR/2026/999999", "NOREC"), ("CR-2026-000101", "INVAL"), ("cr/2026/000101", "INVAL"),
     (None, "INVAL")],
)
def test_get_crime_report_faults_like_legacy(
    sides: Sides, reference: str | None, code: str
) -> None:
    reply = assert_same(sides, "cris", "GetCrimeReport", crimeReference=reference)
    assert error_code(reply) == code


@pytest.mark.parametrize(
    "fields",
    [
        {"offenceCode": "BURG"},
        {"beatCode": "TC02"},
        {"offenceCode": "TOMV", "beatCode": "TN02"},
        {"beatCode": "TC01", "pageNumber": "2", "pageSize": "1"},
        {"offenceCode": "BURG", "pageNumber": "9", "pageSize": "50"},
        {"beatCode": "ZZ99"},
    ],
    ids=["offence", "beat", "both", "second-page", "past-the-end", "unknown-beat"],
)
def test_search_crime_reports_matches_legacy(sides: Sides, fields: dict[str, str]) -> None:
    assert assert_same(sides, "cris", "SearchCrimeReports", **fields).status == 200


def test_search_for_an_offence_the_service_has_no_word_for_answers_without_calling(
    sides: Sides,
) -> None:
    fields = {"offenceCode": "ZZZZ", "pageNumber": "3", "pageSize": "7"}
    body = soap_request("cris", "SearchCrimeReports", **fields)
    translator = sides.translators["cris/SearchCrimeReports"]
    with pytest.raises(Answered) as raised:
        translator.to_call(read_envelope(body, "/cris"))
    assert raised.value.reply.status == 200
    assert_same(sides, "cris", "SearchCrimeReports", **fields)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"offenceCode": "burg"},
        {"beatCode": "TN-01"},
        {"offenceCode": "BURG", "pageNumber": "0"},
        {"offenceCode": "BURG", "pageNumber": "one"},
        {"offenceCode": "BURG", "pageSize": "51"},
    ],
    ids=["neither", "lower-case-offence", "bad-beat", "page-0", "page-word", "page-size-51"],
)
def test_search_crime_reports_faults_like_legacy(sides: Sides, fields: dict[str, str]) -> None:
    reply = assert_same(sides, "cris", "SearchCrimeReports", **fields)
    assert error_code(reply) == "INVAL"


# --- cris: the write -------------------------------------------------------------------------

NEW_CRIME = {
    "offenceCode": "BURG",
    "committedDate": "20260309",
    "committedTime": "2130",
    "beatCode": "TN01",
    "addressLine": "14 Larkspur Close, Turnbridge",
    "postcode": "tb14lx",
    "summary": "Side gate forced, bicycle taken.",
    "reportingOfficer": "PC4127",
    "victimPncId": "98/104233K",
}


def test_create_crime_report_matches_legacy(write_sides: Sides) -> None:
    reply = assert_same(write_sides, "cris", "CreateCrimeReport", **NEW_CRIME)
    assert parse_xml(reply.body).findtext(".//{*}crimeReference") == "CR/2026/000111"
    assert write_sides.modern_store.crime("CR/2026/000111") is not None


def test_created_crime_reads_back_the_same_on_both_sides(write_sides: Sides) -> None:
    minimal = {**NEW_CRIME, "committedTime": None, "victimPncId": None}
    assert_same(write_sides, "cris", "CreateCrimeReport", **minimal)
    assert_same(write_sides, "cris", "GetCrimeReport", crimeReference="CR/2026/000111")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"offenceCode": "ZZZZ"}, "INVAL"),
        ({"offenceCode": "burglary"}, "INVAL"),
        ({"beatCode": "ZZ99"}, "INVAL"),
        ({"reportingOfficer": "4127"}, "INVAL"),
        ({"committedDate": "2026-03-09"}, "INVAL"),
        ({"committedDate": "20260230"}, "INVAL"),
        ({"committedDate": "20260311"}, "INVAL"),
        ({"committedTime": "2561"}, "INVAL"),
        ({"addressLine": None}, "INVAL"),
        ({"addressLine": "x" * 121}, "INVAL"),
        ({"postcode": "TB1 4LX 12"}, "INVAL"),
        ({"summary": " "}, "INVAL"),
        ({"victimPncId": "98/000000A"}, "NOREC"),
    ],
    ids=["unknown-offence", "offence-shape", "unknown-beat", "officer", "iso-date",
         "no-such-day", "future", "time", "no-address", "long-address", "long-postcode",
         "blank-summary", "unknown-victim"],
)
def test_create_crime_report_faults_like_legacy(
    write_sides: Sides, changes: dict[str, str | None], code: str
) -> None:
    reply = assert_same(write_sides, "cris", "CreateCrimeReport", **{**NEW_CRIME, **changes})
    assert error_code(reply) == code
    assert write_sides.legacy_store.crime("CR/2026/000111") is None


def test_create_crime_report_dry_run_calls_validate_and_answers_the_legacy_shape(
    write_sides: Sides,
) -> None:
    body = soap_request("cris", "CreateCrimeReport", **NEW_CRIME)
    translator = write_sides.translators["cris/CreateCrimeReport"]
    assert translator.writes
    call = translator.to_call(read_envelope(body, "/cris"), dry_run=True)
    assert (call.method, call.path) == ("POST", "/crimes/validate")
    dry = write_sides.translated("/cris", body, dry_run=True)
    legacy = write_sides.legacy("/cris", body, _SOAP["1.1"][1])
    assert canonical(dry.body) == canonical(legacy.body)  # the predicted reference is the next
    assert_valid("cris", dry)


def test_create_crime_report_dry_run_writes_nothing(write_sides: Sides) -> None:
    body = soap_request("cris", "CreateCrimeReport", **NEW_CRIME)
    write_sides.translated("/cris", body, dry_run=True)
    assert write_sides.modern_store.crime("CR/2026/000111") is None


# --- eforms: the SOAP 1.2 write --------------------------------------------------------------

WITNESS = {
    "surname": "Lowe",
    "forenames": "Harriet",
    "dateOfBirth": "01/05/1990",
    "addressLine": "3 Hollowmead Rise, Turnbridge",
    "postcode": "TB1 7HQ",
}
STATEMENT = {
    "witness": WITNESS,
    "statementText": "I saw a man climb over the side gate at about half past nine.",
    "officerId": "PC4127",
    "crimeReference": "CR/2026/000101",
}


def test_submit_witness_statement_matches_legacy(write_sides: Sides) -> None:
    reply = assert_same(write_sides, "eforms", "SubmitWitnessStatement", **STATEMENT)
    assert reply.content_type.startswith("application/soap+xml")
    assert parse_xml(reply.body).findtext(".//{*}receivedAt") == "10/03/2026 09:15:02"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"crimeReference": "CR/2026/999999"}, "NOREC"),
        ({"crimeReference": "CR-2026-000101"}, "INVAL"),
        ({"witness": None}, "INVAL"),
        ({"witness": {**WITNESS, "surname": None}}, "INVAL"),
        ({"witness": {**WITNESS, "dateOfBirth": "1990-05-01"}}, "INVAL"),
        ({"witness": {**WITNESS, "postcode": "123456789"}}, "INVAL"),
        ({"statementText": ""}, "INVAL"),
        ({"officerId": "pc4127"}, "INVAL"),
    ],
    ids=["unknown-crime", "crime-shape", "no-witness", "no-surname", "iso-dob",
         "long-postcode", "no-text", "officer"],
)
def test_submit_witness_statement_faults_like_legacy(
    write_sides: Sides, changes: dict[str, Any], code: str
) -> None:
    reply = assert_same(write_sides, "eforms", "SubmitWitnessStatement", **{**STATEMENT, **changes})
    assert error_code(reply) == code
    assert "Sender" in parse_xml(reply.body).findtext(".//{*}Code/{*}Value")


def test_submit_witness_statement_dry_run_calls_validate(write_sides: Sides) -> None:
    body = soap_request("eforms", "SubmitWitnessStatement", **STATEMENT)
    translator = write_sides.translators["eforms/SubmitWitnessStatement"]
    request = read_envelope(body, "/eforms")
    assert translator.to_call(request, dry_run=True).path == "/statements/validate"
    dry = write_sides.translated("/eforms", body, dry_run=True)
    legacy = write_sides.legacy("/eforms", body, _SOAP["1.2"][1])
    assert canonical(dry.body) == canonical(legacy.body)  # predicted id, same clock
    assert write_sides.modern_store.statements() == []
    assert_valid("eforms", dry)


# --- the set as a whole ------------------------------------------------------------------------


def test_every_demo_operation_has_exactly_one_translator(translators: TranslatorSet) -> None:
    operations = {
        f"{service.path} {name}" for service in SERVICES for name in service.handlers
    }
    assert set(translators.operations) == operations
    assert {name for name, t in translators.items() if t.writes} == {
        "cris/CreateCrimeReport", "eforms/SubmitWitnessStatement", "merlin/CreateRecord",
    }


def test_invalid_request_is_answered_without_calling_the_service(
    translators: TranslatorSet,
) -> None:
    """No server needed: the check fails in to_call, and the Fault rides on the error."""
    body = soap_request("pnc", "PersonEnquiry", surname="Ormerod", dateOfBirth="1958-01-06")
    with pytest.raises(RequestRejected) as raised:
        translators["pnc/PersonEnquiry"].to_call(read_envelope(body, "/pnc"))
    assert raised.value.field == "dateOfBirth"
    assert raised.value.reply is not None and raised.value.reply.status == 500
    assert "is not a date in the form DD/MM/YYYY" in str(raised.value)


