"""The embedded legacy bus over real HTTP: zeep clients, XSD validation, faults, the scenario."""

from __future__ import annotations

import re
import socket
import threading
from collections import Counter
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

import pytest
import requests
import zeep
from lxml import etree
from zeep.plugins import HistoryPlugin
from zeep.transports import Transport

from turnout.demo import DemoStore, ServerThread, make_legacy_app
from turnout.demo.bus import SERVICES, BusService, pnc
from turnout.demo.bus.documents import load_schema
from turnout.demo.data import InvalidRecord, Signature, UnknownRecord
from turnout.demo.scenario import SIGNATURE_PNG, run_scenario
from turnout.soap import SOAP11, SOAP11_NS, SOAP12, SOAP12_NS, parse_xml

if TYPE_CHECKING:
    from conftest import LegacyBus

SERVICE = {service.name: service for service in SERVICES}
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
LEGACY_TIMESTAMP = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}")


# --- helpers --------------------------------------------------------------------------------


def client(bus: LegacyBus, name: str) -> tuple[zeep.Client, HistoryPlugin]:
    history = HistoryPlugin()
    transport = Transport(session=requests.Session(), timeout=5, operation_timeout=5)
    return zeep.Client(f"{bus.url}/{name}?wsdl", transport=transport, plugins=[history]), history


def standalone(element: etree._Element) -> etree._Element:
    """`element` as the root of its own document, namespaces and all, for schema validation."""
    return parse_xml(etree.tostring(element))


def soap_parts(service: BusService, envelope: etree._Element) -> tuple[etree._Element, ...]:
    """(MessageHeader, first Body child) of an envelope of the service's version."""
    soap_ns = service.version.namespace
    assert envelope.tag == f"{{{soap_ns}}}Envelope"
    header = envelope.find(f"{{{soap_ns}}}Header/{{{service.namespace}}}MessageHeader")
    body = envelope.find(f"{{{soap_ns}}}Body")
    assert header is not None and body is not None
    return header, body[0]


def assert_exchange_valid(name: str, history: HistoryPlugin) -> etree._Element:
    """Request and response payloads and the response header are valid against the XSD;
    returns the response payload."""
    service = SERVICE[name]
    schema = load_schema(service)
    sent = history.last_sent["envelope"]
    schema.assertValid(standalone(sent.find(f"{{{service.version.namespace}}}Body")[0]))
    header, payload = soap_parts(service, history.last_received["envelope"])
    schema.assertValid(standalone(header))
    schema.assertValid(standalone(payload))
    assert LEGACY_TIMESTAMP.fullmatch(header.findtext("{*}timestamp"))
    return payload


def post(bus: LegacyBus, path: str, body: bytes, **headers: str) -> requests.Response:
    return requests.post(f"{bus.url}{path}", data=body, headers=headers, timeout=5)


def envelope(version_ns: str, payload: str) -> bytes:
    return (
        f'<s:Envelope xmlns:s="{version_ns}"><s:Body>{payload}</s:Body></s:Envelope>'
    ).encode()


def read_fault(service: BusService, response: requests.Response) -> tuple[str, str, str]:
    """(fault code, reason, bus error code) of a fault response, after checking its form."""
    assert response.status_code == 500
    assert response.headers["content-type"] == service.version.content_type
    assert b"Traceback" not in response.content
    root = parse_xml(response.content)
    header, fault = soap_parts(service, root)
    ns = service.version.namespace
    assert fault.tag == f"{{{ns}}}Fault"
    if service.version is SOAP11:
        code, reason = fault.findtext("faultcode"), fault.findtext("faultstring")
        detail = fault.find("detail")
    else:
        code = fault.findtext(f"{{{ns}}}Code/{{{ns}}}Value")
        reason = fault.findtext(f"{{{ns}}}Reason/{{{ns}}}Text")
        detail = fault.find(f"{{{ns}}}Detail")
    service_fault = detail.find(f"{{{service.namespace}}}ServiceFault")
    schema = load_schema(service)
    schema.assertValid(standalone(service_fault))
    schema.assertValid(standalone(header))
    return code, reason, service_fault.findtext(f"{{{service.namespace}}}errorCode")


# --- discovery: /services, ?wsdl, ?xsd ------------------------------------------------------


def test_services_lists_every_service_with_version_and_wsdl(legacy_bus: LegacyBus) -> None:
    listed = requests.get(f"{legacy_bus.url}/services", timeout=5).json()
    by_path = {entry["path"]: entry for entry in listed}
    assert set(by_path) == {"/pnc", "/cris", "/geo", "/eforms", "/merlin", "/metsearch"}
    assert {path: entry["soapVersion"] for path, entry in by_path.items()} == {
        "/pnc": "1.1",
        "/cris": "1.1",
        "/geo": "1.1",
        "/eforms": "1.2",
        "/merlin": "1.1",
        "/metsearch": "1.1",
    }
    assert by_path["/cris"]["wsdl"] == f"{legacy_bus.url}/cris?wsdl"
    actions = {op["name"]: op["soapAction"] for op in by_path["/pnc"]["operations"]}
    assert actions == {
        "PersonEnquiry": "urn:police:pnc:v1#PersonEnquiry",
        "VehicleEnquiry": "urn:police:pnc:v1#VehicleEnquiry",
    }
    assert sum(len(entry["operations"]) for entry in listed) == 11


@pytest.mark.parametrize("name", sorted(SERVICE))
def test_wsdl_addresses_follow_the_host_header(legacy_bus: LegacyBus, name: str) -> None:
    response = requests.get(
        f"{legacy_bus.url}/{name}?wsdl", headers={"Host": "proxy.example:8443"}, timeout=5
    )
    assert response.status_code == 200
    root = parse_xml(response.content)
    addresses = root.findall(f"{{{WSDL_NS}}}service/{{{WSDL_NS}}}port/{{*}}address")
    assert [a.get("location") for a in addresses] == [f"http://proxy.example:8443/{name}"]
    imports = root.findall(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema/{{{XSD_NS}}}import")
    assert [i.get("schemaLocation") for i in imports] == [
        f"http://proxy.example:8443/{name}?xsd={name}.xsd"
    ]
    binding_ns = addresses[0].tag.split("}")[0][1:]
    soap12 = binding_ns == "http://schemas.xmlsoap.org/wsdl/soap12/"
    assert soap12 == (name == "eforms")


def test_a_host_header_that_is_not_a_host_falls_back_to_the_socket(legacy_bus: LegacyBus) -> None:
    response = requests.get(
        f"{legacy_bus.url}/geo?wsdl", headers={"Host": "evil.example/\"><x"}, timeout=5
    )
    assert f'location="http://127.0.0.1:{legacy_bus.port}/geo"'.encode() in response.content


def test_xsd_is_served_where_the_wsdl_says_and_nothing_else_is(legacy_bus: LegacyBus) -> None:
    good = requests.get(f"{legacy_bus.url}/cris?xsd=cris.xsd", timeout=5)
    assert good.status_code == 200
    assert parse_xml(good.content).get("targetNamespace") == "urn:police:cris:v1"
    assert requests.get(f"{legacy_bus.url}/cris?xsd=pnc.xsd", timeout=5).status_code == 404
    assert requests.get(f"{legacy_bus.url}/cris?xsd=../data.py", timeout=5).status_code == 404


# --- every operation through zeep, validated against the XSD ---------------------------------


def test_person_enquiry(legacy_bus: LegacyBus) -> None:
    pnc_client, history = client(legacy_bus, "pnc")
    reply = pnc_client.service.PersonEnquiry(surname="thistlewood")
    payload = assert_exchange_valid("pnc", history)
    assert reply.body.matchCount == 2
    assert [p.forenames for p in reply.body.person] == ["BARNABY", "MARJORIE ANNE"]
    barnaby = reply.body.person[0]
    assert (barnaby.surname, barnaby.dateOfBirth, barnaby.sex) == ("THISTLEWOOD", "02/07/1988", "M")
    assert (barnaby.wanted, barnaby.missing, barnaby.warningMarkers.marker) == ("Y", "N", ["VI"])
    assert payload.tag == "{urn:police:pnc:v1}PersonEnquiryResponse"

    reply = pnc_client.service.PersonEnquiry(surname="Drummond-Vale", dateOfBirth="29/02/1968")
    assert_exchange_valid("pnc", history)
    assert [p.pncId for p in reply.body.person] == ["98/093368P"]
    assert reply.body.person[0].warningMarkers.marker == ["MH"]


def test_person_enquiry_without_a_match_is_an_empty_answer(legacy_bus: LegacyBus) -> None:
    pnc_client, history = client(legacy_bus, "pnc")
    reply = pnc_client.service.PersonEnquiry(surname="Thistlewood", dateOfBirth="01/01/2000")
    assert_exchange_valid("pnc", history)
    assert reply.body.matchCount == 0
    assert reply.body.person == []


def test_vehicle_enquiry(legacy_bus: LegacyBus) -> None:
    pnc_client, history = client(legacy_bus, "pnc")
    reply = pnc_client.service.VehicleEnquiry(registrationMark="tb19xkf")
    assert_exchange_valid("pnc", history)
    vehicle = reply.body.vehicle
    assert (vehicle.registrationMark, vehicle.make, vehicle.model) == ("TB19 XKF", "FORD", "FOCUS")
    assert vehicle.colourCode == "BLU"
    assert (vehicle.insured, vehicle.stolen, vehicle.firstRegistered) == ("Y", "N", "01/03/2019")
    assert vehicle.keeper.pncId == "98/118402B"
    assert pnc_client.service.VehicleEnquiry(registrationMark="TB17 ZRC").body.vehicle.stolen == "Y"


def test_resolve_location(legacy_bus: LegacyBus) -> None:
    geo_client, history = client(legacy_bus, "geo")
    location = geo_client.service.ResolveLocation(postcode="tb25sa").body.location
    assert_exchange_valid("geo", history)
    assert (location.postcode, location.beatCode, location.forceCode) == ("TB2 5SA", "TC02", "98")
    assert float(location.latitude) == pytest.approx(51.05331)
    by_address = geo_client.service.ResolveLocation(addressLine="52 QUARRY LANE TURNBRIDGE")
    assert_exchange_valid("geo", history)
    assert by_address.body.location.postcode == "TB3 2QL"


def test_crime_reports_create_get_and_search(legacy_bus: LegacyBus) -> None:
    cris, history = client(legacy_bus, "cris")
    created = cris.service.CreateCrimeReport(
        offenceCode="BURG",
        committedDate="20260214",
        committedTime="0330",
        beatCode="TS01",
        addressLine="9 Brackenfold Way, Turnbridge",
        postcode="tb34bw",
        summary="Side gate forced, bicycle taken.",
        reportingOfficer="PC4127",
    )
    assert_exchange_valid("cris", history)
    assert created.body.crimeReference == "CR/2026/000111"
    assert created.body.statusCode == "REC"

    report = cris.service.GetCrimeReport(crimeReference="CR/2026/000111").body.crimeReport
    assert_exchange_valid("cris", history)
    assert (report.offenceCode, report.committedDate, report.committedTime) == (
        "BURG",
        "20260214",
        "0330",
    )
    assert (report.postcode, report.victimPncId) == ("TB3 4BW", None)
    assert legacy_bus.store.crime("CR/2026/000111") is not None

    page = cris.service.SearchCrimeReports(offenceCode="BURG", pageNumber=2, pageSize=2).body
    assert_exchange_valid("cris", history)
    assert (page.totalRecords, page.pageNumber, page.pageSize) == (3, 2, 2)
    assert [c.crimeReference for c in page.crimeReport] == ["CR/2026/000111"]
    both = cris.service.SearchCrimeReports(offenceCode="TOMV", beatCode="TN02").body
    assert [c.crimeReference for c in both.crimeReport] == ["CR/2026/000110"]


def test_witness_statement_over_soap_12(legacy_bus: LegacyBus) -> None:
    eforms, history = client(legacy_bus, "eforms")
    reply = eforms.service.SubmitWitnessStatement(
        witness={
            "surname": "Oakenshaw",
            "forenames": "Wilhelmina",
            "dateOfBirth": "17/06/1971",
            "addressLine": "110 Riverside Walk, Turnbridge",
            "postcode": "TB3 6RW",
        },
        statementText="I saw a cyclist take the phone.",
        officerId="DC0912",
        crimeReference="CR/2026/000108",
    )
    assert_exchange_valid("eforms", history)
    assert history.last_received["envelope"].tag == f"{{{SOAP12_NS}}}Envelope"
    assert history.last_sent["http_headers"]["Content-Type"].startswith("application/soap+xml")
    assert reply.body.statementId == "WS/2026/000001"
    assert LEGACY_TIMESTAMP.fullmatch(reply.body.receivedAt)
    stored = legacy_bus.store.statement("WS/2026/000001")
    assert stored is not None and stored.born_on == date(1971, 6, 17)


# --- faults ---------------------------------------------------------------------------------

ZEEP_FAULTS = [
    ("pnc", "VehicleEnquiry", {"registrationMark": "ZZ99 ZZZ"}, "NOREC"),
    ("pnc", "PersonEnquiry", {"surname": "Ormerod", "dateOfBirth": "1958-01-06"}, "INVAL"),
    ("pnc", "PersonEnquiry", {"surname": "Ormerod", "dateOfBirth": "30/02/1958"}, "INVAL"),
    ("cris", "GetCrimeReport", {"crimeReference": "CR/2026/999999"}, "NOREC"),
    ("cris", "GetCrimeReport", {"crimeReference": "CR-2026-1"}, "INVAL"),
    ("cris", "SearchCrimeReports", {"pageSize": 5}, "INVAL"),
    ("cris", "SearchCrimeReports", {"beatCode": "TN01", "pageSize": 51}, "INVAL"),
    ("geo", "ResolveLocation", {"postcode": "TB9 9ZZ"}, "NOREC"),
    (
        "eforms",
        "SubmitWitnessStatement",
        {
            "witness": {
                "surname": "Oakenshaw",
                "forenames": "Wilhelmina",
                "dateOfBirth": "17/06/1971",
                "addressLine": "110 Riverside Walk",
                "postcode": "TB3 6RW",
            },
            "statementText": "I saw it.",
            "officerId": "PC5518",
            "crimeReference": "CR/2026/999999",
        },
        "NOREC",
    ),
]


@pytest.mark.parametrize(("name", "operation", "args", "error_code"), ZEEP_FAULTS)
def test_unknown_records_and_bad_input_are_soap_faults(
    legacy_bus: LegacyBus, name: str, operation: str, args: dict[str, Any], error_code: str
) -> None:
    service = SERVICE[name]
    soap_client, _ = client(legacy_bus, name)
    with pytest.raises(zeep.exceptions.Fault) as caught:
        getattr(soap_client.service, operation)(**args)
    assert caught.value.code == f"soap:{service.version.sender_code}"
    assert caught.value.detail.findtext("{*}ServiceFault/{*}errorCode") == error_code
    # the same request, raw: status, content type and fault form
    message = soap_client.create_message(soap_client.service, operation, **args)
    content_type = service.version.content_type
    response = post(
        legacy_bus,
        service.path,
        etree.tostring(message),
        **{"Content-Type": content_type, "SOAPAction": service.soap_action(operation)},
    )
    code, reason, bus_code = read_fault(service, response)
    assert (code, bus_code) == (f"soap:{service.version.sender_code}", error_code)
    assert reason == caught.value.message


def test_crime_reference_for_a_statement_must_exist_and_the_store_says_so() -> None:
    store = DemoStore()
    with pytest.raises(UnknownRecord):
        store.add_statement(
            crime_reference="CR/2026/000999",
            surname="Oakenshaw",
            forenames="Wilhelmina",
            born_on=date(1971, 6, 17),
            address_line="x",
            postcode="TB3 6RW",
            text="t",
            officer_id="PC5518",
        )
    assert store.statements() == []


RAW_FAULTS = [
    # (service, body, headers, fault code, bus error code)
    ("pnc", b"<not xml", {}, "Client", "BADMSG"),
    ("eforms", b"<not xml", {}, "Sender", "BADMSG"),
    ("geo", b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', {}, "Client", "BADMSG"),
    ("cris", b"<plain>xml but no envelope</plain>", {}, "Client", "BADMSG"),
    ("pnc", envelope(SOAP11_NS, '<p:Arrest xmlns:p="urn:police:pnc:v1"/>'), {}, "Client", "BADOP"),
    (
        "pnc",
        envelope(SOAP11_NS, '<p:PersonEnquiry xmlns:p="urn:police:cris:v1"/>'),
        {},
        "Client",
        "BADOP",
    ),
    (
        "pnc",
        envelope(SOAP11_NS, '<p:PersonEnquiry xmlns:p="urn:police:pnc:v1"/>'),
        {},
        "Client",
        "INVAL",
    ),
    (
        "pnc",
        envelope(
            SOAP11_NS,
            '<p:PersonEnquiry xmlns:p="urn:police:pnc:v1"><p:surname>Ormerod</p:surname>'
            "</p:PersonEnquiry>",
        ),
        {"SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'},
        "Client",
        "BADACT",
    ),
    (
        "eforms",
        envelope(SOAP11_NS, '<e:SubmitWitnessStatement xmlns:e="urn:police:eforms:v1"/>'),
        {"Content-Type": "text/xml"},
        "VersionMismatch",
        "VERMM",
    ),
    (
        "geo",
        envelope(SOAP12_NS, '<g:ResolveLocation xmlns:g="urn:police:geo:v1"/>'),
        {"Content-Type": "application/soap+xml"},
        "VersionMismatch",
        "VERMM",
    ),
]


@pytest.mark.parametrize(("name", "body", "headers", "fault_code", "error_code"), RAW_FAULTS)
def test_unreadable_or_misaddressed_requests_get_faults_of_the_service_version(
    legacy_bus: LegacyBus,
    name: str,
    body: bytes,
    headers: dict[str, str],
    fault_code: str,
    error_code: str,
) -> None:
    service = SERVICE[name]
    response = post(legacy_bus, service.path, body, **headers)
    code, reason, bus_code = read_fault(service, response)
    assert (code, bus_code) == (f"soap:{fault_code}", error_code)
    assert reason


def test_a_failing_handler_is_a_receiver_fault_without_a_stack_trace(
    legacy_bus: LegacyBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(store: object, fields: object) -> etree._Element:
        raise KeyError("secret internal detail")

    monkeypatch.setitem(pnc.SERVICE.handlers, "VehicleEnquiry", broken)
    body = envelope(
        SOAP11_NS,
        '<p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"><p:registrationMark>TB19 XKF'
        "</p:registrationMark></p:VehicleEnquiry>",
    )
    response = post(legacy_bus, "/pnc", body)
    code, reason, bus_code = read_fault(pnc.SERVICE, response)
    assert (code, bus_code) == ("soap:Server", "SYSERR")
    assert b"secret internal detail" not in response.content


def test_soap_12_faults_carry_code_reason_and_language(legacy_bus: LegacyBus) -> None:
    response = post(legacy_bus, "/eforms", b"garbage", **{"Content-Type": SOAP12.content_type})
    root = parse_xml(response.content)
    text = root.find(f"{{{SOAP12_NS}}}Body/{{{SOAP12_NS}}}Fault/{{{SOAP12_NS}}}Reason/*")
    assert text.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert response.headers["content-type"].startswith("application/soap+xml")


# --- the scenario ---------------------------------------------------------------------------


def test_scenario_calls_every_operation_and_gets_the_faults_it_expects(
    legacy_bus: LegacyBus,
) -> None:
    calls = run_scenario(legacy_bus.url)
    assert len(calls) >= 50
    per_operation = Counter(call.operation for call in calls)
    assert set(per_operation) == {
        "/pnc PersonEnquiry",
        "/pnc VehicleEnquiry",
        "/cris CreateCrimeReport",
        "/cris GetCrimeReport",
        "/cris SearchCrimeReports",
        "/geo ResolveLocation",
        "/eforms SubmitWitnessStatement",
        "/merlin CreateRecord",
        "/merlin GetRecord",
        "/merlin SearchRecords",
        "/metsearch Search",
    }
    unexpected = [call for call in calls if not call.as_expected]
    assert unexpected == []
    faults = [call for call in calls if not call.ok]
    assert {(c.fault_code, c.error_code) for c in faults} >= {
        ("soap:Client", "NOREC"),
        ("soap:Client", "INVAL"),
        ("soap:Sender", "NOREC"),
        ("soap:Sender", "INVAL"),
        ("soap:Client.RecordNotFound", "NOREC"),  # MERLIN's: the code in the faultcode
        ("soap:Client.ValidationError", "INVAL"),
    }
    assert all(c.fault_reason for c in faults)
    assert all(c.latency_ms > 0 for c in calls)
    # the writes landed, and a created crime reads back through GetCrimeReport
    new_crimes = [c for c in legacy_bus.store.crimes() if c.reference >= "CR/2026/000111"]
    assert [c.reference for c in new_crimes] == [
        "CR/2026/000111",
        "CR/2026/000112",
        "CR/2026/000113",
    ]
    # every statement the bus accepted is stored, the MTOM one with its signature image as sent
    answered = [c for c in calls if c.operation == "/eforms SubmitWitnessStatement" and c.ok]
    statements = legacy_bus.store.statements()
    assert len(statements) == len(answered) >= 2
    assert [s.signature for s in statements if s.signature] == [Signature("image/png", SIGNATURE_PNG)]
    cris, history = client(legacy_bus, "cris")
    report = cris.service.GetCrimeReport(crimeReference="CR/2026/000112").body.crimeReport
    assert_exchange_valid("cris", history)
    assert (report.offenceCode, report.beatCode) == ("CRDM", "TN01")
    assert report.committedDate == "20260308"


def test_scenario_is_the_same_script_every_time(legacy_bus: LegacyBus) -> None:
    first = run_scenario(legacy_bus.url)
    second = run_scenario(legacy_bus.url)  # same bus: new references, same requests and outcomes
    assert [(c.operation, c.label, c.ok, c.error_code) for c in first] == [
        (c.operation, c.label, c.ok, c.error_code) for c in second
    ]


# --- the store and the server thread --------------------------------------------------------


def test_store_seed_is_fixed_and_consistent() -> None:
    one, two = DemoStore(), DemoStore()
    assert one.people() == two.people() and one.vehicles() == two.vehicles()
    assert (len(one.people()), len(one.vehicles()), len(one.crimes()), len(one.locations())) == (
        20,
        15,
        10,
        12,
    )
    assert all(one.person(v.keeper_id) is not None for v in one.vehicles())
    assert all(one.location(p.location_id) is not None for p in one.people())


def test_store_allocates_references_in_order_under_concurrent_writes() -> None:
    fixed = datetime(2026, 11, 25, 7, 53, 1, tzinfo=timezone.utc)
    store = DemoStore(clock=lambda: fixed)
    references: list[str] = []
    lock = threading.Lock()

    def file_crimes() -> None:
        for _ in range(25):
            crime = store.create_crime(
                offence_code="CRDM",
                committed_on=date(2026, 11, 1),
                beat_code="TC01",
                address_line="Turnbridge Market Square",
                postcode="TB2 2MS",
                summary="Graffiti.",
                officer_id="PC4127",
            )
            with lock:
                references.append(crime.reference)

    threads = [threading.Thread(target=file_crimes) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(references) == [f"CR/2026/{n:06d}" for n in range(111, 311)]
    with pytest.raises(InvalidRecord):
        store.create_crime(
            offence_code="CRDM",
            committed_on=date(2026, 11, 26),  # tomorrow, by the store's clock
            beat_code="TC01",
            address_line="x",
            postcode="TB2 2MS",
            summary="x",
            officer_id="PC4127",
        )


def test_server_thread_frees_its_port_on_stop() -> None:
    server = ServerThread(make_legacy_app(DemoStore())).start()
    port = server.port
    assert server.url == f"http://127.0.0.1:{port}"
    assert requests.get(f"{server.url}/services", timeout=5).status_code == 200
    server.stop()
    server.stop()  # twice is fine
    with pytest.raises(RuntimeError):
        _ = server.port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
