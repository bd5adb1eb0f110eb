"""zeep through the real proxy to the real demo bus, for every operation.

Two buses over two fresh, identically seeded stores: one called directly, one behind the proxy.
The same calls in the same order must get the same status and the same bytes (message ids and
timestamps aside, which a bus makes fresh for every answer), and the proxy must record exactly
what it delivered.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
import zeep
from zeep.transports import Transport

from turnout.config import ProxyConfig
from turnout.demo import DemoStore, ServerThread, make_legacy_app
from turnout.demo.config import DEMO_CONFIG, demo_proxy_config
from turnout.demo.scenario import run_scenario
from turnout.proxy import ProxyThread
from turnout.recording import Pseudonymiser, RecordingStore

VOLATILE = re.compile(rb"<((?:\w+:)?(?:messageId|timestamp|receivedAt))>[^<]*</\1>")

# (service path, operation, arguments): every operation, reads, writes and faults
CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("/pnc", "PersonEnquiry", {"surname": "Thistlewood"}),
    ("/pnc", "PersonEnquiry", {"surname": "Zzyzx-Nonesuch"}),
    ("/pnc", "PersonEnquiry", {"surname": "Ormerod", "dateOfBirth": "31/02/1958"}),
    ("/pnc", "VehicleEnquiry", {"registrationMark": "TB19 XKF"}),
    ("/pnc", "VehicleEnquiry", {"registrationMark": "ZZ99 ZZZ"}),
    ("/geo", "ResolveLocation", {"postcode": "TB1 4LX"}),
    ("/geo", "ResolveLocation", {"postcode": "TB9 9ZZ"}),
    ("/cris", "SearchCrimeReports", {"beatCode": "TC01", "pageNumber": 2, "pageSize": 1}),
    ("/cris", "GetCrimeReport", {"crimeReference": "CR/2026/000104"}),
    ("/cris", "GetCrimeReport", {"crimeReference": "CR/2026/999999"}),
    ("/cris", "CreateCrimeReport", {
        "offenceCode": "CRDM", "committedDate": "20260308", "beatCode": "TN01",
        "addressLine": "14 Larkspur Close, Turnbridge", "postcode": "TB1 4LX",
        "summary": "Fence panels kicked through.", "reportingOfficer": "PC4127",
    }),
    ("/cris", "GetCrimeReport", {"crimeReference": "CR/2026/000111"}),
    ("/eforms", "SubmitWitnessStatement", {
        "officerId": "PC5518", "crimeReference": "CR/2026/000111", "statementText": "I saw it.",
        "witness": {"surname": "Oakenshaw", "forenames": "Wilhelmina", "dateOfBirth": "17/06/1971",
                    "addressLine": "110 Riverside Walk", "postcode": "TB3 6RW"},
    }),
    ("/eforms", "SubmitWitnessStatement", {
        "officerId": "PC5518", "crimeReference": "CR/2026/999999", "statementText": "I heard it.",
        "witness": {"surname": "Oakenshaw", "forenames": "Wilhelmina", "dateOfBirth": "17/06/1971",
                    "addressLine": "110 Riverside Walk", "postcode": "TB3 6RW"},
    }),
]


@pytest.fixture
def two_buses() -> Iterator[tuple[ServerThread, ServerThread]]:
    with ServerThread(make_legacy_app(DemoStore())) as direct, \
            ServerThread(make_legacy_app(DemoStore())) as proxied:
        yield direct, proxied


def clients(base: str, session: requests.Session) -> dict[str, zeep.Client]:
    transport = Transport(session=session, timeout=10, operation_timeout=10)
    return {path: zeep.Client(f"{base}{path}?wsdl", transport=transport)
            for path in ("/pnc", "/cris", "/geo", "/eforms")}


def call(client: zeep.Client, operation: str, args: dict[str, Any]) -> requests.Response:
    with client.settings(raw_response=True):
        return getattr(client.service, operation)(**args)


def test_every_operation_through_the_proxy_matches_a_direct_call(
    two_buses: tuple[ServerThread, ServerThread], tmp_path: Path
) -> None:
    direct_bus, proxied_bus = two_buses
    config = ProxyConfig(upstream=proxied_bus.url, listen_port=0, record_dir=tmp_path / "rec")
    with ProxyThread(config) as proxy, requests.Session() as session:
        direct, through = clients(direct_bus.url, session), clients(proxy.url, session)
        # the WSDL fetched through the proxy must address the proxy, or zeep would bypass it
        assert through["/pnc"].service._binding_options["address"].startswith(proxy.url)
        replies = []
        for path, operation, args in CALLS:
            expected = call(direct[path], operation, args)
            got = call(through[path], operation, args)
            assert got.status_code == expected.status_code, (operation, args)
            assert VOLATILE.sub(b"", got.content) == VOLATILE.sub(b"", expected.content), (operation, args)
            assert got.headers["Content-Type"] == expected.headers["Content-Type"]
            replies.append(got)
    statuses = {r.status_code for r in replies}
    assert statuses == {200, 500}  # the list really holds faults as well as answers

    recorded = list(RecordingStore(tmp_path / "rec").iter_exchanges())
    assert len(recorded) == len(CALLS)
    by_order = sorted(recorded, key=lambda e: e.id)
    for exchange, reply, (path, operation, _) in zip(by_order, replies, CALLS, strict=True):
        assert exchange.operation.key == f"{path} {operation}"
        assert exchange.response.status == reply.status_code
        assert exchange.response.body == reply.content  # recorded exactly as delivered
    assert {e.operation.key for e in recorded} == {
        "/pnc PersonEnquiry", "/pnc VehicleEnquiry", "/geo ResolveLocation",
        "/cris SearchCrimeReports", "/cris GetCrimeReport", "/cris CreateCrimeReport",
        "/eforms SubmitWitnessStatement",
    }


def test_demo_scenario_recordings_are_redacted_and_read_back(tmp_path: Path) -> None:
    store = DemoStore()
    personal: set[str] = set()
    for person in store.people():
        personal.update({person.surname.upper(), person.forenames.upper(),
                         person.born_on.strftime("%d/%m/%Y")})
    witnesses = ["Oakenshaw", "Wilhelmina", "Featherstonehaugh", "17/06/1971", "110 Riverside Walk"]
    with ServerThread(make_legacy_app(store)) as bus:
        with ProxyThread(demo_proxy_config(bus.url, tmp_path / "rec")) as proxy:
            calls = run_scenario(proxy.url)
    assert len(calls) >= 50 and all(c.as_expected for c in calls)
    files = sorted((tmp_path / "rec").rglob("*.yaml"))
    assert len(files) == len(calls)
    raw = b"".join(f.read_bytes() for f in files).upper()
    leaked = sorted(v for v in personal | set(witnesses) if v.upper().encode() in raw)
    assert leaked == []
    # pseudonyms, not a blank: the same keyed token for the same person, in the field's format
    pseudonym = Pseudonymiser(DEMO_CONFIG.with_name("demo-pseudonym.key").read_bytes().strip())
    assert pseudonym("THISTLEWOOD").encode() in raw
    assert b"REDACTED" not in raw
    exchanges = list(RecordingStore(tmp_path / "rec").iter_exchanges())
    assert len(exchanges) == len(calls)
    assert all(e.response is not None and e.response.status in (200, 500) for e in exchanges)
