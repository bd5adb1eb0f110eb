"""MERLIN in the demo: the legacy bus's /merlin, the modern merlin service, and the mapping-file
translators between them.

MERLIN is written as spyne writes a service, so its answers carry what the older demo services
never did: the record type and risk level as attributes, `xsi:nil="true"` for what is not known,
`linkedRefs/string` array wrappers, xs:dateTime with a `+00:00` offset, and Faults whose
faultcode says what went wrong (`soap:Client.RecordNotFound`) with no SOAP Header. The
translators must give the same envelopes from the modern service's JSON, fault for fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
import requests
import zeep
from lxml import etree

from turnout.compare import diff, load_rules, rules_for
from turnout.config import load_proxy_config
from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from turnout.demo.bus import SERVICES
from turnout.demo.bus.documents import load_schema
from turnout.demo.config import DEMO_CONFIG, write_demo_config
from turnout.demo.translators import DIRECTORY
from turnout.proxy import ProxyThread
from turnout.routing import set_route
from turnout.soap import parse_xml, read_envelope
from turnout.translators import JsonReply, SoapReply, TranslationError, TranslatorSet, load_translators

from .support.asgi import SwappableApp

NS = "urn:police:merlin:v1"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CONTENT_TYPE = "text/xml; charset=utf-8"
NOW = datetime(2026, 3, 10, 9, 15, 2, 345678, tzinfo=UTC)
MERLIN = next(service for service in SERVICES if service.name == "merlin")
M = {"m": NS, "soap": SOAP11, "xsi": XSI}


# --- servers: one bus and one modern app for the module, fresh stores per test ---------------


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, SwappableApp, str, SwappableApp]]:
    legacy_app, modern_app = SwappableApp(), SwappableApp()
    with ServerThread(legacy_app) as legacy, ServerThread(modern_app) as modern:
        yield legacy.url, legacy_app, modern.url, modern_app


@pytest.fixture(scope="module")
def translators() -> TranslatorSet:
    return load_translators(DIRECTORY)


class Sides:
    """The bus over one store, the modern service over the same one (reads) or its own
    identically seeded one with the same clock (writes), and the translators between."""

    def __init__(self, servers: Any, translators: TranslatorSet, *, shared: bool) -> None:
        self.legacy_url, self.legacy_app, self.modern_url, self.modern_app = servers
        self.translators = translators
        self.legacy_store = DemoStore(clock=lambda: NOW)
        self.modern_store = self.legacy_store if shared else DemoStore(clock=lambda: NOW)
        self.legacy_app.target = make_legacy_app(self.legacy_store)
        self.modern_app.target = make_modern_app(self.modern_store)
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()
        self.legacy_app.target = self.modern_app.target = None

    def legacy(self, body: bytes) -> SoapReply:
        response = self.session.post(
            self.legacy_url + "/merlin", data=body, headers={"Content-Type": CONTENT_TYPE}, timeout=10
        )
        return SoapReply(response.status_code, response.headers["content-type"], response.content)

    def modern(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.modern_url + path, timeout=10, **kwargs)

    def translated(self, body: bytes, *, dry_run: bool = False) -> tuple[SoapReply, Any]:
        """The translated answer, and the JSON call made (None when the translator answered)."""
        request = read_envelope(body, "/merlin")
        translator = self.translators.for_operation(request.operation.key)
        assert translator is not None, request.operation.key
        try:
            call = translator.to_call(request, dry_run=dry_run)
        except TranslationError as error:
            assert error.reply is not None, f"no answer from the translator: {error}"
            return error.reply, None
        response = self.modern(
            call.method, call.path, params=list(call.query), headers=dict(call.headers),
            json=call.body,
        )
        reply = JsonReply(response.status_code, tuple(response.headers.items()), response.json())
        return translator.to_reply(reply, request), call


@pytest.fixture
def sides(servers: Any, translators: TranslatorSet) -> Iterator[Sides]:
    both = Sides(servers, translators, shared=True)
    yield both
    both.close()


@pytest.fixture
def write_sides(servers: Any, translators: TranslatorSet) -> Iterator[Sides]:
    both = Sides(servers, translators, shared=False)
    yield both
    both.close()


# --- requests and comparison -----------------------------------------------------------------


def _xml(fields: dict[str, Any]) -> str:
    parts = []
    for name, value in fields.items():
        if name.startswith("@"):
            continue
        attributes = "".join(
            f' {key[1:]}="{escape(str(val))}"' for key, val in (value.items() if isinstance(value, dict) else ())
            if key.startswith("@")
        )
        if value is None:
            parts.append(f'<m:{name} xsi:nil="true"/>')
        elif isinstance(value, dict):
            parts.append(f"<m:{name}{attributes}>{_xml(value)}</m:{name}>")
        elif isinstance(value, list):
            items = "".join(f"<m:string>{escape(item)}</m:string>" for item in value)
            parts.append(f"<m:{name}>{items}</m:{name}>")
        else:
            parts.append(f"<m:{name}>{escape(str(value))}</m:{name}>")
    return "".join(parts)


def soap_request(operation: str, attributes: str = "", **fields: Any) -> bytes:
    """A request as a client would write it (its own prefixes, not the bus's)."""
    return (
        f'<env:Envelope xmlns:env="{SOAP11}" xmlns:xsi="{XSI}"><env:Body>'
        f'<m:{operation} xmlns:m="{NS}"{attributes}>{_xml(fields)}</m:{operation}>'
        f"</env:Body></env:Envelope>"
    ).encode()


RULES = load_rules(DEMO_CONFIG.with_name("compare.yaml"))


def assert_equal(legacy: bytes, translated: bytes, operation: str) -> None:
    """The same envelope under the demo's compare rules: prefixes and attribute order never
    count, the header's message id and time are volatile (and, for a create, its filing time).
    A Header on one side only, an attribute, a nil, an item: each counts."""
    result = diff(legacy, translated, rules_for(RULES, f"/merlin {operation}"))
    assert result.equal, result.differences


def _operation(body: bytes) -> str:
    return read_envelope(body, "/merlin").operation.name


def assert_valid(reply: SoapReply) -> None:
    """Header and payload (or the fault's detail) valid against merlin.xsd."""
    schema = load_schema(MERLIN)
    root = parse_xml(reply.body)
    payload = root.find(f"{{{SOAP11}}}Body")[0]
    if etree.QName(payload).localname == "Fault":
        assert root.find(f"{{{SOAP11}}}Header") is None  # spyne writes no Header on a Fault
        detail = payload.find(f"detail/{{{NS}}}MerlinFault")
        assert detail is not None
        schema.assertValid(parse_xml(etree.tostring(detail)))
        return
    header = root.find(f"{{{SOAP11}}}Header/{{{NS}}}MessageHeader")
    assert header is not None
    schema.assertValid(parse_xml(etree.tostring(header)))
    schema.assertValid(parse_xml(etree.tostring(payload)))


def assert_same(sides: Sides, body: bytes) -> SoapReply:
    """Legacy and translated answers are the same envelope; returns the translated one."""
    legacy = sides.legacy(body)
    translated, _ = sides.translated(body)
    assert_equal(legacy.body, translated.body, _operation(body))
    assert (translated.status, translated.content_type) == (legacy.status, legacy.content_type)
    assert_valid(legacy)
    assert_valid(translated)
    return translated


def fault_code(reply: SoapReply) -> str:
    """The faultcode as a QName `{namespace}local`, whatever prefix the envelope chose."""
    root = parse_xml(reply.body)
    code = root.find(".//faultcode")
    assert code is not None
    prefix, _, local = (code.text or "").partition(":")
    return f"{{{code.nsmap[prefix]}}}{local}"


NEW_RECORD: dict[str, Any] = {
    "@recordType": "MISSING",
    "@riskLevel": "HIGH",
    "subject": {
        "surname": "Nakamura-Bell",
        "forenames": "Hana",
        "dateOfBirth": "1996-03-11",
        "pncId": "98/136620Y",
    },
    "lastSeenAt": "2026-03-09T19:45:00+01:00",
    "lastSeenLocation": "Riverside Walk, Turnbridge",
    "circumstances": "Did not arrive for a night shift.",
    "linkedRefs": ["CR/2026/000108"],
    "reportingOfficer": "DC0912",
}
AT_RISK: dict[str, Any] = {
    **NEW_RECORD,
    "@recordType": "CHILD_AT_RISK",
    "@riskLevel": "CRITICAL",
    "subject": {**NEW_RECORD["subject"], "pncId": None},
    "lastSeenAt": None,
    "lastSeenLocation": None,
    "linkedRefs": ["MER/2026/000003", "MER/2026/000004", "CR/2026/000104"],
}


def create(record: dict[str, Any]) -> bytes:
    return soap_request("CreateRecord", record=record)


# --- the legacy bus --------------------------------------------------------------------------


def test_bus_writes_a_record_with_attributes_nil_fields_and_array_wrappers(sides: Sides) -> None:
    reply = sides.legacy(soap_request("GetRecord", recordId="MER/2026/000003"))
    assert reply.status == 200
    assert_valid(reply)
    result = parse_xml(reply.body).find(".//m:GetRecordResult", M)
    assert (result.get("recordType"), result.get("riskLevel")) == ("CHILD_AT_RISK", "HIGH")
    for path in ("m:subject/m:pncId", "m:lastSeenAt", "m:lastSeenLocation"):
        node = result.find(path, M)
        assert node.get(f"{{{XSI}}}nil") == "true" and not node.text, path
    refs = [node.text for node in result.findall("m:linkedRefs/m:string", M)]
    assert refs == ["CR/2026/000104", "MER/2026/000004", "MER/2026/000002"]
    assert result.findtext("m:reportedAt", namespaces=M) == "2026-02-27T14:20:00+00:00"
    header = parse_xml(reply.body).findtext(".//m:MessageHeader/m:timestamp", namespaces=M)
    assert header == "2026-03-10T09:15:02+00:00"  # whole seconds, +00:00


def test_bus_fault_has_a_qname_code_a_merlin_detail_and_no_header(sides: Sides) -> None:
    reply = sides.legacy(soap_request("GetRecord", recordId="MER/2026/999999"))
    assert reply.status == 500
    assert fault_code(reply) == f"{{{SOAP11}}}Client.RecordNotFound"
    root = parse_xml(reply.body)
    assert root.find(f"{{{SOAP11}}}Header") is None
    assert root.findtext(".//faultstring") == "no MERLIN record MER/2026/999999"
    assert root.findtext(".//detail/m:MerlinFault/m:field", namespaces=M) == "recordId"
    invalid = sides.legacy(soap_request("GetRecord", recordId="MER-2026-17"))
    assert fault_code(invalid) == f"{{{SOAP11}}}Client.ValidationError"


def test_bus_search_ranks_hits_by_score_and_leaves_closed_records_out(sides: Sides) -> None:
    def hits(body: bytes) -> list[tuple[str | None, str | None]]:
        reply = sides.legacy(body)
        assert reply.status == 200
        assert_valid(reply)
        return [(hit.get("score"), hit.findtext("m:recordId", namespaces=M))
                for hit in parse_xml(reply.body).iterfind(".//m:RecordSummary", M)]

    ranked = hits(soap_request("SearchRecords", surname="QUILLFEATHER", forenames="oph"))
    assert ranked == [("85", "MER/2026/000001"), ("60", "MER/2026/000006")]
    assert hits(soap_request("SearchRecords", surname="Thistle", dateOfBirth="1961-03-14")) == [
        ("55", "MER/2026/000008")
    ]
    assert hits(soap_request("SearchRecords", surname="Ashgrove")) == []
    closed = soap_request("SearchRecords", ' includeClosed="1"', surname="Ashgrove")
    assert hits(closed) == [("60", "MER/2026/000007")]


def test_bus_files_a_record_that_reads_back_through_zeep(servers: Any) -> None:
    legacy_url, legacy_app, _, _ = servers
    store = DemoStore(clock=lambda: NOW)
    legacy_app.target = make_legacy_app(store)
    try:
        client = zeep.Client(f"{legacy_url}/merlin?wsdl")
        record = {
            "recordType": "CHILD_AT_RISK", "riskLevel": "CRITICAL",
            "subject": {"surname": "Pemberthy", "forenames": "Maisie",
                        "dateOfBirth": "2017-10-05", "pncId": None},
            "lastSeenAt": None, "lastSeenLocation": None,
            "circumstances": "Sibling of a child at risk.",
            "linkedRefs": {"string": ["MER/2026/000003", "CR/2026/000104"]},
            "reportingOfficer": "DC0912",
        }
        created = client.service.CreateRecord(record=record).body.CreateRecordResult
        assert (created.recordId, created.status) == ("MER/2026/000009", "OPEN")
        back = client.service.GetRecord(recordId=created.recordId).body.GetRecordResult
        assert (back.recordType, back.riskLevel, back.subject.pncId, back.lastSeenAt) == (
            "CHILD_AT_RISK", "CRITICAL", None, None)
        assert back.linkedRefs.string == ["MER/2026/000003", "CR/2026/000104"]
        with pytest.raises(zeep.exceptions.Fault) as fault:
            client.service.GetRecord(recordId="MER/2026/999999")
        assert fault.value.code.endswith(":Client.RecordNotFound")
    finally:
        legacy_app.target = None


# --- the modern service ----------------------------------------------------------------------


def test_modern_record_has_words_iso_times_nulls_and_plain_lists(sides: Sides) -> None:
    record = sides.modern("GET", "/records/mer-2026-000003").json()
    assert (record["type"], record["risk"], record["status"]) == ("child-at-risk", "high", "open")
    assert record["subject"]["pncId"] is None
    assert record["lastSeen"] == {"at": None, "location": None}
    assert record["linkedRefs"] == ["CR/2026/000104", "MER/2026/000004", "MER/2026/000002"]
    assert record["reportedAt"] == "2026-02-27T14:20:00Z"
    missing = sides.modern("GET", "/records/MER-2026-999999")
    assert (missing.status_code, missing.json()["detail"]) == (404, "no MERLIN record MER/2026/999999")


def test_modern_search_returns_ranked_hits_with_a_score(sides: Sides) -> None:
    found = sides.modern("GET", "/records", params={"surname": "Quillfeather", "forenames": "Oph"})
    body = found.json()
    assert body["total"] == 2
    assert [(hit["score"], hit["record"]["recordId"]) for hit in body["hits"]] == [
        (85, "MER/2026/000001"), (60, "MER/2026/000006")]
    assert body["hits"][0]["record"]["subject"]["pncId"] == "98/120577D"  # for MetSearch to merge
    bad = sides.modern("GET", "/records", params={"surname": "x", "dob": "14/03/1961"})
    assert bad.status_code == 400 and bad.json()["invalidParams"][0]["name"] == "dob"


def test_modern_dry_run_files_nothing_and_create_converts_the_offset(write_sides: Sides) -> None:
    body = {
        "type": "missing", "risk": "high",
        "subject": {"name": {"given": "Hana", "family": "Nakamura-Bell"},
                    "dateOfBirth": "1996-03-11", "pncId": "98/136620Y"},
        "lastSeen": {"at": "2026-03-09T19:45:00+01:00", "location": None},
        "circumstances": "Did not arrive for a night shift.",
        "linkedRefs": [], "officerId": "DC0912",
    }
    dry = write_sides.modern("POST", "/records/validate", json=body).json()
    assert dry["wouldCreate"]["recordId"] == "MER/2026/000009"
    assert write_sides.modern_store.merlin_record("MER/2026/000009") is None
    filed = write_sides.modern("POST", "/records", json=body)
    assert filed.status_code == 201 and filed.headers["location"] == "/records/MER-2026-000009"
    assert filed.json()["lastSeen"]["at"] == "2026-03-09T18:45:00Z"
    assert filed.json()["reportedAt"] == "2026-03-10T09:15:02Z"  # whole seconds
    unknown = write_sides.modern("POST", "/records", json={**body, "subject": {
        **body["subject"], "pncId": "98/000000A"}})
    assert unknown.status_code == 422 and unknown.json()["invalidParams"][0]["name"] == "subject.pncId"


# --- the translators against both ------------------------------------------------------------

READS = [
    pytest.param(soap_request("GetRecord", recordId=record_id), id=f"get {record_id}")
    for record_id in (f"MER/2026/00000{n}" for n in range(1, 9))
] + [
    pytest.param(soap_request("GetRecord", recordId="MER/2026/999999"), id="get unknown"),
    pytest.param(soap_request("GetRecord", recordId=" mer/2026/000001"), id="get malformed"),
    pytest.param(soap_request("GetRecord"), id="get without id"),
    pytest.param(soap_request("SearchRecords", surname="Quillfeather", forenames="Ophelia"),
                 id="search ranked"),
    pytest.param(soap_request("SearchRecords", surname="thistle", dateOfBirth="1961-03-14"),
                 id="search prefix and date of birth"),
    pytest.param(soap_request("SearchRecords", surname="Ashgrove"), id="search closed left out"),
    pytest.param(soap_request("SearchRecords", ' includeClosed="true"', surname="Ashgrove"),
                 id="search closed asked for"),
    pytest.param(soap_request("SearchRecords", surname="Zzyzx"), id="search no match"),
    pytest.param(soap_request("SearchRecords", surname="Golightly", dateOfBirth="30/09/1965"),
                 id="search date not xs:date"),
    pytest.param(soap_request("SearchRecords", surname="Golightly", dateOfBirth="1965-02-30"),
                 id="search no such date"),
    pytest.param(soap_request("SearchRecords", ' includeClosed="maybe"', surname="Ashgrove"),
                 id="search flag not boolean"),
    pytest.param(soap_request("SearchRecords", surname="x" * 36), id="search surname too long"),
    pytest.param(soap_request("SearchRecords", dateOfBirth="1961-03-14"), id="search no surname"),
]


@pytest.mark.parametrize("body", READS)
def test_translated_read_is_the_legacy_answer(sides: Sides, body: bytes) -> None:
    assert_same(sides, body)


def test_translated_not_found_is_client_record_not_found_without_header(sides: Sides) -> None:
    reply = assert_same(sides, soap_request("GetRecord", recordId="MER/2026/999999"))
    assert fault_code(reply) == f"{{{SOAP11}}}Client.RecordNotFound"
    assert parse_xml(reply.body).find(f"{{{SOAP11}}}Header") is None


def test_translated_at_risk_record_keeps_nils_attributes_and_every_linked_ref(sides: Sides) -> None:
    reply = assert_same(sides, soap_request("GetRecord", recordId="MER/2026/000003"))
    result = parse_xml(reply.body).find(".//m:GetRecordResult", M)
    assert result.find("m:lastSeenAt", M).get(f"{{{XSI}}}nil") == "true"
    assert len(result.findall("m:linkedRefs/m:string", M)) == 3
    empty = assert_same(sides, soap_request("GetRecord", recordId="MER/2026/000005"))
    wrapper = parse_xml(empty.body).find(".//m:GetRecordResult/m:linkedRefs", M)
    assert wrapper is not None and len(wrapper) == 0  # [] is an empty wrapper, not a missing one


WRITES = [
    pytest.param(NEW_RECORD, id="missing person on the PNC"),
    pytest.param(AT_RISK, id="child at risk, nil fields, three links"),
    pytest.param({**NEW_RECORD, "linkedRefs": []}, id="empty linkedRefs"),
    pytest.param({k: v for k, v in NEW_RECORD.items() if k != "linkedRefs"}, id="no linkedRefs"),
    pytest.param({**NEW_RECORD, "@riskLevel": "SEVERE"}, id="risk level not in the enumeration"),
    pytest.param({**NEW_RECORD, "@recordType": ""}, id="no record type"),
    pytest.param({**NEW_RECORD, "subject": {**NEW_RECORD["subject"], "dateOfBirth": "11/03/1996"}},
                 id="date of birth not xs:date"),
    pytest.param({**NEW_RECORD, "subject": {**NEW_RECORD["subject"], "pncId": "98/000000A"}},
                 id="unknown PNC person"),
    pytest.param({**NEW_RECORD, "subject": {**NEW_RECORD["subject"], "dateOfBirth": "2027-01-01"}},
                 id="born in the future"),
    pytest.param({**NEW_RECORD, "lastSeenAt": "2026-03-09 21:30"}, id="sighting not xs:dateTime"),
    pytest.param({**NEW_RECORD, "lastSeenAt": "2026-03-09T21:30:00"}, id="sighting without offset"),
    pytest.param({**NEW_RECORD, "lastSeenAt": "2026-04-01T00:00:00Z"}, id="sighting in the future"),
    pytest.param({**NEW_RECORD, "linkedRefs": ["CR/2026/000101", "nonsense"]}, id="bad linked ref"),
    pytest.param({**NEW_RECORD, "circumstances": ""}, id="no circumstances"),
    pytest.param({**NEW_RECORD, "reportingOfficer": "constable"}, id="bad officer"),
]


@pytest.mark.parametrize("record", WRITES)
def test_translated_create_is_the_legacy_answer(write_sides: Sides, record: dict[str, Any]) -> None:
    assert_same(write_sides, create(record))
    filed = write_sides.legacy_store.merlin_records(), write_sides.modern_store.merlin_records()
    assert filed[0] == filed[1]  # both sides filed the same record, or neither did


def test_translated_create_sends_plain_json_and_utc_z_times(write_sides: Sides) -> None:
    _, call = write_sides.translated(create(AT_RISK))
    assert call.body["linkedRefs"] == ["MER/2026/000003", "MER/2026/000004", "CR/2026/000104"]
    assert call.body["subject"]["pncId"] is None and call.body["lastSeen"]["at"] is None
    assert (call.body["type"], call.body["risk"]) == ("child-at-risk", "critical")
    _, call = write_sides.translated(create(NEW_RECORD))
    assert call.body["lastSeen"]["at"] == "2026-03-09T18:45:00Z"


def test_translated_dry_run_answers_as_the_bus_would(write_sides: Sides) -> None:
    legacy = write_sides.legacy(create(NEW_RECORD))
    dry, call = write_sides.translated(create(NEW_RECORD), dry_run=True)
    assert call.path == "/records/validate"
    assert_equal(legacy.body, dry.body, "CreateRecord")  # same id: each store's first new one
    stamps = [parse_xml(reply.body).findtext(".//m:reportedAt", namespaces=M) for reply in (legacy, dry)]
    assert stamps == ["2026-03-10T09:15:02+00:00"] * 2  # the rules ignore it; it still agrees
    assert write_sides.modern_store.merlin_record("MER/2026/000009") is None


# --- through a real proxy --------------------------------------------------------------------


def test_merlin_through_the_proxy_in_translator_mode_matches_the_bus(tmp_path: Path) -> None:
    """zeep to the bus directly and to a proxy with MERLIN's routes on the translators: the
    same answers under the demo's compare rules, and the bus behind the proxy sees none."""
    rules = load_rules(DEMO_CONFIG.with_name("compare.yaml"))
    behind = DemoStore()
    calls: list[tuple[str, dict[str, Any]]] = [
        ("GetRecord", {"recordId": "MER/2026/000003"}),
        ("GetRecord", {"recordId": "MER/2026/999999"}),
        ("SearchRecords", {"surname": "Quillfeather", "forenames": "Ophelia"}),
        ("SearchRecords", {"surname": "Ashgrove", "includeClosed": True}),
        ("SearchRecords", {"surname": "Zzyzx"}),
        ("CreateRecord", {"record": {
            "recordType": "ADULT_AT_RISK", "riskLevel": "MEDIUM",
            "subject": {"surname": "Ormerod", "forenames": "Percival",
                        "dateOfBirth": "1958-01-06", "pncId": "98/084419Z"},
            "lastSeenAt": None, "lastSeenLocation": None,
            "circumstances": "Stopped collecting his prescriptions.",
            "linkedRefs": {"string": []}, "reportingOfficer": "PC5518"}}),
    ]
    with ServerThread(make_legacy_app(DemoStore())) as direct_bus, \
            ServerThread(make_legacy_app(behind)) as bus, \
            ServerThread(make_modern_app(behind)) as services:
        config_path = write_demo_config(tmp_path, bus.url, services.url, tmp_path / "rec",
                                        authenticate=False)
        for operation in ("GetRecord", "SearchRecords", "CreateRecord"):
            set_route(config_path, f"/merlin {operation}", "translator")
        with ProxyThread(load_proxy_config(config_path)) as proxy:
            for operation, args in calls:
                answers = []
                for base in (direct_bus.url, proxy.url):
                    client = zeep.Client(f"{base}/merlin?wsdl")
                    with client.settings(raw_response=True):
                        answers.append(getattr(client.service, operation)(**args))
                expected, got = answers
                assert got.status_code == expected.status_code, (operation, got.content)
                result = diff(expected.content, got.content, rules_for(rules, f"/merlin {operation}"))
                assert result.equal, (operation, args, result.differences)
            counters = proxy.state.stats.snapshot()
    assert counters.get("translator.ok") == len(calls)
    assert counters.get("outcome.forwarded", 0) == 0
    assert behind.merlin_record("MER/2026/000009") is not None  # the write landed, via JSON
