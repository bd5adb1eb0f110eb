"""The demo authenticates like a real one (issue 11): the bus checks WS-Security UsernameTokens
and roles, the modern services check Turnout's bearer JWTs, the scenario signs as officers.

Both are opt-in: `make_legacy_app(store)` and `make_modern_app(store)` stay open (the other demo
tests use them so); `turnout demo legacy` and `turnout demo services` authenticate by default.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

import jwt
import pytest
import requests
import zeep
from click.testing import CliRunner
from lxml import etree
from zeep.exceptions import Fault
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from turnout.cli import main
from turnout.demo import (
    DEMO_TOKEN_KEY,
    DemoIdentity,
    DemoStore,
    ServerThread,
    make_legacy_app,
    make_modern_app,
    make_modern_apps,
    read_token_key,
)
from turnout.demo.bus import SERVICES
from turnout.demo.bus.documents import load_schema
from turnout.demo.modern import ENDPOINT_OPERATIONS, PROBLEM_BASE, SERVICE_ROUTES
from turnout.demo.scenario import ScenarioCall, run_scenario
from turnout.soap import SOAP11, SOAP12, parse_xml, username_token_header

from .support.asgi import SwappableApp

SERVICE = {service.name: service for service in SERVICES}
PASSWORD = {"PC5518": "larkspur-kettle-42", "PC4127": "marchbank-otter-7",
            "PCSO9001": "quarry-lane-lantern", "DC0912": "hollowmead-heron-19",
            "DS7043": "tannery-wharf-lantern-3"}
TIMEOUT = 5


# --- the bus --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecureBus:
    url: str
    store: DemoStore
    identity: DemoIdentity


@pytest.fixture
def secure_bus(legacy_bus_server: tuple[ServerThread, SwappableApp]) -> Iterator[SecureBus]:
    server, app = legacy_bus_server
    store, identity = DemoStore(), DemoIdentity.load()
    app.target = make_legacy_app(store, identity)
    try:
        yield SecureBus(server.url, store, identity)
    finally:
        app.target = None


def signed_client(bus_url: str, name: str, officer: str | None, password: str | None = None) -> zeep.Client:
    transport = Transport(session=requests.Session(), timeout=TIMEOUT, operation_timeout=TIMEOUT)
    wsse = None
    if officer is not None:
        wsse = UsernameToken(officer, password or PASSWORD[officer], use_digest=True)
    return zeep.Client(f"{bus_url}/{name}?wsdl", transport=transport, wsse=wsse)


PAYLOADS = {
    "pnc": '<p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"><p:registrationMark>TB19 XKF</p:registrationMark></p:VehicleEnquiry>',
    "geo": '<g:ResolveLocation xmlns:g="urn:police:geo:v1"><g:postcode>TB1 4LX</g:postcode></g:ResolveLocation>',
    "cris": '<c:GetCrimeReport xmlns:c="urn:police:cris:v1"><c:crimeReference>CR/2026/000101</c:crimeReference></c:GetCrimeReport>',
    "eforms": '<e:SubmitWitnessStatement xmlns:e="urn:police:eforms:v1"/>',
}


def raw_envelope(name: str, officer: str | None, password: str | None = None, *,
                 nonce: bytes | None = None, payload: str | None = None) -> bytes:
    service = SERVICE[name]
    soap_ns = service.version.namespace
    root = etree.fromstring(
        f'<s:Envelope xmlns:s="{soap_ns}"><s:Header/><s:Body>{payload or PAYLOADS[name]}</s:Body></s:Envelope>'
    )
    if officer is not None:
        root[0].append(username_token_header(
            officer, password or PASSWORD[officer], nonce=nonce or os.urandom(16),
            created=datetime.now(timezone.utc)))
    return etree.tostring(root)


def post(bus: SecureBus, name: str, body: bytes) -> requests.Response:
    service = SERVICE[name]
    return requests.post(f"{bus.url}/{name}", data=body, timeout=TIMEOUT,
                         headers={"Content-Type": service.version.content_type})


def bus_fault(name: str, response: requests.Response) -> tuple[str, str, str]:
    """(fault code, errorCode, errorText) of a bus Fault, checked as the bus always writes one:
    HTTP 500, the service's SOAP version, its MessageHeader, a ServiceFault valid by the XSD."""
    service = SERVICE[name]
    soap_ns = service.version.namespace
    assert response.status_code == 500
    assert response.headers["content-type"] == service.version.content_type
    root = parse_xml(response.content)
    assert root.tag == f"{{{soap_ns}}}Envelope"
    header = root.find(f"{{{soap_ns}}}Header/{{{service.namespace}}}MessageHeader")
    assert header is not None and header.findtext(f"{{{service.namespace}}}messageId")
    fault = root.find(f"{{{soap_ns}}}Body/{{{soap_ns}}}Fault")
    assert fault is not None
    if service.version is SOAP11:
        code, detail = fault.findtext("faultcode"), fault.find("detail")
    else:
        code = fault.findtext(f"{{{soap_ns}}}Code/{{{soap_ns}}}Value")
        detail = fault.find(f"{{{soap_ns}}}Detail")
    assert detail is not None
    service_fault = detail.find(f"{{{service.namespace}}}ServiceFault")
    assert service_fault is not None
    load_schema(service).assertValid(parse_xml(etree.tostring(service_fault)))
    return (code or "", service_fault.findtext(f"{{{service.namespace}}}errorCode") or "",
            service_fault.findtext(f"{{{service.namespace}}}errorText") or "")


def test_the_bus_stays_open_without_an_identity(legacy_bus: Any) -> None:
    response = requests.post(f"{legacy_bus.url}/pnc", data=raw_envelope("pnc", None), timeout=TIMEOUT,
                             headers={"Content-Type": SOAP11.content_type})
    assert response.status_code == 200 and b"VehicleEnquiryResponse" in response.content


@pytest.mark.parametrize("name, officer", [("pnc", "PC4127"), ("geo", "PCSO9001"),
                                           ("cris", "PC5518")])
def test_an_officer_with_the_role_is_answered_through_zeep(secure_bus: SecureBus, name: str,
                                                           officer: str) -> None:
    client = signed_client(secure_bus.url, name, officer)
    operation, args = {
        "pnc": ("VehicleEnquiry", {"registrationMark": "TB19 XKF"}),
        "geo": ("ResolveLocation", {"postcode": "TB1 4LX"}),
        "cris": ("GetCrimeReport", {"crimeReference": "CR/2026/000101"}),
    }[name]
    assert getattr(client.service, operation)(**args).body is not None


def test_a_witness_statement_over_soap_12_is_signed_too(secure_bus: SecureBus) -> None:
    client = signed_client(secure_bus.url, "eforms", "PC5518")
    witness = {"surname": "Lowe", "forenames": "Harriet", "dateOfBirth": "01/05/1990",
               "addressLine": "3 Hollowmead Rise, Turnbridge", "postcode": "TB1 7HQ"}
    reply = client.service.SubmitWitnessStatement(
        crimeReference="CR/2026/000101", witness=witness, statementText="I saw it.",
        officerId="PC5518")
    assert reply.body.statementId.startswith("WS/")
    assert len(secure_bus.store.statements()) == 1


@pytest.mark.parametrize("name", ["pnc", "eforms"])
def test_every_failed_authentication_is_one_authfail_that_says_nothing_more(
    secure_bus: SecureBus, name: str,
) -> None:
    sender = "soap:Client" if SERVICE[name].version is SOAP11 else "soap:Sender"
    replayed = raw_envelope(name, "PC5518", nonce=b"a-nonce-used-twice")
    first = post(secure_bus, name, replayed)  # its first use passes authentication
    assert b"AUTHFAIL" not in first.content and b"FORBIDDEN" not in first.content
    attempts = {
        "no token": raw_envelope(name, None),
        "wrong password": raw_envelope(name, "PC5518", "larkspur-kettle-43"),
        "unknown officer": raw_envelope(name, "PC0001", "whatever"),
        "replayed": replayed,
    }
    for label, body in attempts.items():
        assert bus_fault(name, post(secure_bus, name, body)) == (
            sender, "AUTHFAIL", "authentication failed"), label


def test_a_replayed_request_is_refused_even_with_a_good_password(secure_bus: SecureBus) -> None:
    body = raw_envelope("geo", "PCSO9001")
    assert post(secure_bus, "geo", body).status_code == 200
    assert bus_fault("geo", post(secure_bus, "geo", body))[1] == "AUTHFAIL"


def test_a_zeep_client_with_the_wrong_password_gets_the_fault_zeep_reads(secure_bus: SecureBus) -> None:
    client = signed_client(secure_bus.url, "pnc", "PC4127", "not-the-password")
    with pytest.raises(Fault) as caught:
        client.service.PersonEnquiry(surname="Thistlewood")
    assert caught.value.code == "soap:Client" and caught.value.message == "authentication failed"
    assert caught.value.detail.findtext("{*}ServiceFault/{*}errorCode") == "AUTHFAIL"


def test_an_officer_without_the_role_is_forbidden_and_nothing_is_written(secure_bus: SecureBus) -> None:
    before = len(secure_bus.store.crimes())
    client = signed_client(secure_bus.url, "cris", "PC4127")
    with pytest.raises(Fault) as caught:
        client.service.CreateCrimeReport(
            offenceCode="CRDM", committedDate="20260308", beatCode="TN01",
            addressLine="14 Larkspur Close, Turnbridge", postcode="TB1 4LX",
            summary="Garden fence panels kicked through overnight.", reportingOfficer="PC4127")
    assert caught.value.code == "soap:Client"
    assert caught.value.message == "officer PC4127 is not allowed to call /cris CreateCrimeReport"
    assert caught.value.detail.findtext("{*}ServiceFault/{*}errorCode") == "FORBIDDEN"
    assert len(secure_bus.store.crimes()) == before


def test_forbidden_is_a_bus_fault_of_the_services_version(secure_bus: SecureBus) -> None:
    code, error, text = bus_fault("eforms", post(secure_bus, "eforms", raw_envelope("eforms", "PCSO9001")))
    assert (code, error, text) == (
        "soap:Sender", "FORBIDDEN", "officer PCSO9001 is not allowed to call /eforms SubmitWitnessStatement")


def test_the_bus_authenticates_before_it_says_what_it_serves(secure_bus: SecureBus) -> None:
    unknown = '<p:Teleport xmlns:p="urn:police:pnc:v1"/>'
    assert bus_fault("pnc", post(secure_bus, "pnc", raw_envelope("pnc", None, payload=unknown)))[1] == "AUTHFAIL"
    assert bus_fault("pnc", post(secure_bus, "pnc", raw_envelope("pnc", "PC4127", payload=unknown)))[1] == "BADOP"


def test_an_operation_the_identity_file_does_not_list_is_refused_to_everyone(
    legacy_bus_server: tuple[ServerThread, SwappableApp],
) -> None:
    server, app = legacy_bus_server
    full = DemoIdentity.load()
    operations = {key: role for key, role in full.operations.items() if key != "/geo ResolveLocation"}
    app.target = make_legacy_app(DemoStore(), DemoIdentity(full.officers, operations))
    try:
        bus = SecureBus(server.url, DemoStore(), full)
        assert bus_fault("geo", post(bus, "geo", raw_envelope("geo", "PC5518")))[1] == "FORBIDDEN"
        assert post(bus, "pnc", raw_envelope("pnc", "PC5518")).status_code == 200
    finally:
        app.target = None


def test_documents_stay_open_when_the_bus_authenticates(secure_bus: SecureBus) -> None:
    assert requests.get(f"{secure_bus.url}/services", timeout=TIMEOUT).status_code == 200
    for name in SERVICE:
        wsdl = requests.get(f"{secure_bus.url}/{name}?wsdl", timeout=TIMEOUT)
        assert wsdl.status_code == 200 and b"definitions" in wsdl.content
        assert requests.get(f"{secure_bus.url}/{name}?xsd={name}.xsd", timeout=TIMEOUT).status_code == 200


# --- the scenario, as officers --------------------------------------------------------------


def test_the_scenario_signs_as_officers_and_is_refused_where_it_should_be(secure_bus: SecureBus) -> None:
    calls = run_scenario(secure_bus.url, secure_bus.identity)
    assert [c for c in calls if not c.as_expected] == []
    assert Counter(c.officer for c in calls).keys() == {"PC5518", "PC4127", "PCSO9001", "DC0912", "DS7043"}
    refusals = {(c.label, c.officer, c.error_code) for c in calls if c.error_code in ("AUTHFAIL", "FORBIDDEN")}
    assert refusals == {
        ("PC4127 may not file a crime", "PC4127", "FORBIDDEN"),
        ("PCSO9001 may not check a vehicle", "PCSO9001", "FORBIDDEN"),
        ("wrong password", "PC4127", "AUTHFAIL"),
    }
    # the day's work still happened: three crimes and every statement answered (the MTOM one
    # too), and no fourth crime
    new_crimes = [c.reference for c in secure_bus.store.crimes() if c.reference >= "CR/2026/000111"]
    assert new_crimes == ["CR/2026/000111", "CR/2026/000112", "CR/2026/000113"]
    answered = [c for c in calls if c.operation == "/eforms SubmitWitnessStatement" and c.ok]
    assert len(secure_bus.store.statements()) == len(answered) >= 2
    assert any(s.signature is not None for s in secure_bus.store.statements())


def test_the_signed_scenario_is_the_open_one_plus_its_refusals(
    legacy_bus_server: tuple[ServerThread, SwappableApp],
) -> None:
    server, app = legacy_bus_server
    identity = DemoIdentity.load()
    try:
        app.target = make_legacy_app(DemoStore(), identity)
        signed = run_scenario(server.url, identity)
        app.target = make_legacy_app(DemoStore())  # the same script, unsigned, on an open bus
        opened = run_scenario(server.url)
    finally:
        app.target = None
    shape = [(c.operation, c.label, c.ok, c.error_code) for c in opened]
    assert [(c.operation, c.label, c.ok, c.error_code) for c in signed[: len(opened)]] == shape
    assert len(signed) == len(opened) + 3 and all(c.officer is None for c in opened)


def test_an_unsigned_scenario_against_an_authenticating_bus_is_all_surprises(secure_bus: SecureBus) -> None:
    calls = run_scenario(secure_bus.url)
    assert calls and all(c.error_code == "AUTHFAIL" for c in calls)
    assert sum(not c.as_expected for c in calls) == sum(not c.expected_fault for c in calls) > 40


def test_a_refusal_with_another_bus_code_is_a_surprise() -> None:
    base = dict(operation="/cris CreateCrimeReport", label="x", ok=False, expected_fault=True,
                latency_ms=1.0, expected_error="FORBIDDEN")
    assert ScenarioCall(**base, error_code="FORBIDDEN").as_expected
    assert ScenarioCall(**base, error_code=None).as_expected  # a proxy's own refusal
    assert not ScenarioCall(**base, error_code="NOREC").as_expected
    assert not ScenarioCall(**{**base, "ok": True}).as_expected


def test_the_scenario_refuses_an_identity_without_its_officers() -> None:
    identity = DemoIdentity.load()
    partial = DemoIdentity({"PC5518": identity.officers["PC5518"]}, identity.operations)
    with pytest.raises(ValueError, match="PC4127, PCSO9001"):
        run_scenario("http://127.0.0.1:9", partial)


# --- the modern services --------------------------------------------------------------------


KEY = read_token_key()


def token(aud: str, roles: Any, *, key: bytes = KEY, sub: str = "PC5518", lifetime: int = 60,
          **claims: Any) -> str:
    now = int(time.time())
    body: dict[str, Any] = {"iss": "turnout", "aud": aud, "sub": sub, "roles": roles,
                            "op": "/pnc PersonEnquiry", "rid": "r1", "iat": now,
                            "exp": now + lifetime, "jti": os.urandom(8).hex()}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm="HS256")


@pytest.fixture(scope="module")
def modern_server() -> Iterator[tuple[ServerThread, SwappableApp]]:
    app = SwappableApp()
    with ServerThread(app) as server:
        yield server, app


@dataclass
class Modern:
    url: str
    store: DemoStore
    app: SwappableApp

    def get(self, path: str, bearer: str | None = None, **headers: str) -> requests.Response:
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        return requests.get(self.url + path, headers=headers, timeout=TIMEOUT)

    def post(self, path: str, body: Any, bearer: str | None = None) -> requests.Response:
        headers = {} if bearer is None else {"Authorization": f"Bearer {bearer}"}
        return requests.post(self.url + path, json=body, headers=headers, timeout=TIMEOUT)


@pytest.fixture
def modern(modern_server: tuple[ServerThread, SwappableApp]) -> Iterator[Modern]:
    server, app = modern_server
    store = DemoStore()
    app.target = make_modern_app(store, KEY)
    try:
        yield Modern(server.url, store, app)
    finally:
        app.target = None


def problem(response: requests.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_BASE + kind and body["status"] == status
    return body


#: one request per endpoint: (service, method, path as called, path template, body)
CRIME = {"offence": "criminal-damage", "committed": {"date": "2026-01-08"}, "beat": "TN01",
         "address": {"lines": ["14 Larkspur Close"], "postcode": "TB1 4LX"},
         "summary": "Fence kicked through.", "officerId": "PC5518"}
STATEMENT = {"crimeReference": "CR/2026/000101", "text": "I saw it.", "officerId": "PC5518",
             "witness": {"name": {"given": "Harriet", "family": "Lowe"}, "dateOfBirth": "1990-05-01",
                         "address": {"lines": ["3 Hollowmead Rise"], "postcode": "TB1 7HQ"}}}
RECORD = {"type": "missing", "risk": "high", "circumstances": "Did not come home.",
          "subject": {"name": {"given": "Hana", "family": "Nakamura-Bell"}, "dateOfBirth": "1996-03-11"},
          "officerId": "DC0912"}
ENDPOINTS = [
    ("pnc", "GET", "/people?surname=Thistlewood", "/people", None),
    ("pnc", "GET", "/people/98-118402B", "/people/{pncId}", None),
    ("pnc", "GET", "/vehicles/TB19XKF", "/vehicles/{vrm}", None),
    ("cris", "GET", "/crimes?beat=TC01", "/crimes", None),
    ("cris", "POST", "/crimes", "/crimes", CRIME),
    ("cris", "POST", "/crimes/validate", "/crimes/validate", CRIME),
    ("cris", "GET", "/crimes/CR-2026-000101", "/crimes/{crimeId}", None),
    ("geo", "GET", "/locations?postcode=TB1%204LX", "/locations", None),
    ("eforms", "POST", "/statements", "/statements", STATEMENT),
    ("eforms", "POST", "/statements/validate", "/statements/validate", STATEMENT),
    ("eforms", "GET", "/statements/WS-2026-000001", "/statements/{statementId}", None),
    ("merlin", "GET", "/records?surname=Quillfeather", "/records", None),
    ("merlin", "POST", "/records", "/records", RECORD),
    ("merlin", "POST", "/records/validate", "/records/validate", RECORD),
    ("merlin", "GET", "/records/MER-2026-000001", "/records/{recordId}", None),
]


def test_every_endpoint_is_mapped_to_an_operation_and_nothing_else_is() -> None:
    store = DemoStore()
    for name, make_routes in SERVICE_ROUTES.items():
        served = {(method, route.path) for route in make_routes(store)  # type: ignore[attr-defined]
                  for method in route.methods - {"HEAD"}}  # type: ignore[attr-defined]
        assert served == set(ENDPOINT_OPERATIONS[name]), name
    assert {(s, m, t) for s, m, _, t, _ in ENDPOINTS} == {
        (s, m, t) for s, table in ENDPOINT_OPERATIONS.items() for (m, t) in table}


def call(modern: Modern, method: str, path: str, body: Any, bearer: str | None) -> requests.Response:
    return modern.get(path, bearer) if method == "GET" else modern.post(path, body, bearer)


@pytest.mark.parametrize("service, method, path, template, body", ENDPOINTS,
                         ids=[f"{m} {t}" for _, m, _, t, _ in ENDPOINTS])
def test_each_endpoint_needs_a_token_for_its_service_with_its_operations_role(
    modern: Modern, service: str, method: str, path: str, template: str, body: Any,
) -> None:
    if template == "/statements/{statementId}":  # a statement to read
        assert modern.post("/statements", STATEMENT, token("eforms", ["statements"])).status_code == 201
    role = DemoIdentity.load().operations[ENDPOINT_OPERATIONS[service][(method, template)]]
    others = [r for r in ("pnc-check", "crime-report", "statements", "geo", "safeguarding") if r != role]
    other_service = next(s for s in SERVICE_ROUTES if s != service)

    challenge = problem(call(modern, method, path, body, None), 401, "unauthorized")
    assert "Bearer" in challenge["detail"]
    problem(call(modern, method, path, body, token(other_service, [role])), 401, "unauthorized")
    refused = call(modern, method, path, body, token(service, others, sub="PC4127"))
    assert problem(refused, 403, "forbidden")["detail"].startswith("officer PC4127 is not allowed to call /")
    assert refused.headers["www-authenticate"].endswith('error="insufficient_scope"')
    answered = call(modern, method, path, body, token(service, [role]))
    assert answered.status_code in (200, 201), answered.text


BAD_TOKENS = {
    "expired": lambda: token("pnc", ["pnc-check"], lifetime=-30),
    "another key": lambda: token("pnc", ["pnc-check"], key=b"k" * 64),
    "another issuer": lambda: token("pnc", ["pnc-check"], iss="someone"),
    "no roles": lambda: token("pnc", None),
    "no expiry": lambda: token("pnc", ["pnc-check"], exp=None),
    "roles not a list": lambda: token("pnc", "pnc-check"),
    "alg none": lambda: jwt.encode({"iss": "turnout", "aud": "pnc", "sub": "PC5518",
                                    "roles": ["pnc-check"], "iat": int(time.time()),
                                    "exp": int(time.time()) + 60}, None, algorithm="none"),
    "not a jwt": lambda: "not.a.jwt",
}


@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_a_bad_token_is_a_401_problem(modern: Modern, make: Any) -> None:
    assert modern.get("/vehicles/TB19XKF", token("pnc", ["pnc-check"])).status_code == 200
    refused = modern.get("/vehicles/TB19XKF", make())
    problem(refused, 401, "unauthorized")
    assert refused.headers["www-authenticate"].startswith('Bearer realm="turnout-demo"')


def test_the_authorization_header_must_be_one_bearer(modern: Modern) -> None:
    good = token("pnc", ["pnc-check"])
    problem(modern.get("/vehicles/TB19XKF", Authorization=f"Basic {good}"), 401, "unauthorized")
    problem(modern.get("/vehicles/TB19XKF", Authorization="Bearer"), 401, "unauthorized")
    assert modern.get("/vehicles/TB19XKF", Authorization=f"bearer {good}").status_code == 200


def test_the_token_is_checked_before_the_body_and_a_refused_write_writes_nothing(modern: Modern) -> None:
    before = len(modern.store.crimes())
    problem(modern.post("/crimes", {"offence": "nonsense"}), 401, "unauthorized")
    problem(modern.post("/crimes", CRIME, token("cris", ["pnc-check", "geo"], sub="PC4127")),
            403, "forbidden")
    assert len(modern.store.crimes()) == before
    problem(modern.post("/crimes", {"offence": "nonsense"}, token("cris", ["crime-report"])),
            422, "invalid-body")


def test_single_apps_check_their_own_audience(modern: Modern) -> None:
    apps = make_modern_apps(modern.store, KEY)
    modern.app.target = apps["geo"]
    assert modern.get("/locations?postcode=TB1%204LX", token("geo", ["geo"])).status_code == 200
    problem(modern.get("/locations?postcode=TB1%204LX", token("pnc", ["geo"])), 401, "unauthorized")
    modern.app.target = make_modern_app(modern.store)  # no key: open, as before
    assert modern.get("/locations?postcode=TB1%204LX").status_code == 200


def test_the_demo_token_key_is_32_random_bytes_in_hex() -> None:
    text = DEMO_TOKEN_KEY.read_text().strip()
    assert len(text) == 64 and bytes.fromhex(text) and KEY == text.encode()
    with pytest.raises(ValueError):
        make_modern_app(DemoStore(), b"")


# --- the commands ---------------------------------------------------------------------------


def test_demo_legacy_authenticates_unless_told_not_to(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    monkeypatch.setattr("turnout.demo.run_legacy", lambda host, port, identity=None: seen.append(identity))
    assert CliRunner().invoke(main, ["demo", "legacy", "--port", "8001"]).exit_code == 0
    assert CliRunner().invoke(main, ["demo", "legacy", "--port", "8001", "--no-auth"]).exit_code == 0
    assert isinstance(seen[0], DemoIdentity) and set(seen[0].officers) == set(PASSWORD)
    assert seen[1] is None


def test_demo_services_verify_tokens_unless_told_not_to(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    monkeypatch.setattr("turnout.demo.run_services",
                        lambda host, port, token_key=None: seen.append(token_key))
    assert CliRunner().invoke(main, ["demo", "services", "--port", "9001"]).exit_code == 0
    assert CliRunner().invoke(main, ["demo", "services", "--port", "9001", "--no-auth"]).exit_code == 0
    assert seen == [KEY, None]
