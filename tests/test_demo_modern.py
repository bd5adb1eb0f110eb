"""The demo's modern JSON services over real HTTP, side by side with the legacy bus on one store.

The parity tests derive each legacy reply from the JSON reply the way a translator would (the
rules of docs/modern-services.md) and compare it leaf by leaf with what the legacy bus answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator
from xml.sax.saxutils import escape

import pytest
import requests
from lxml import etree

from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app, make_modern_apps
from turnout.demo.bus import SERVICES
from turnout.demo.data import (
    BEAT_CODES,
    COLOUR_CODES,
    CRIME_STATUSES,
    OFFENCE_CODES,
    WARNING_MARKERS,
)
from turnout.demo.modern import MAX_BODY_BYTES, PROBLEM_BASE, SERVICE_ROUTES, vocab
from turnout.soap import parse_xml

from .support.asgi import SwappableApp

SERVICE = {service.name: service for service in SERVICES}
NOW = datetime(2026, 3, 10, 9, 15, 2, 345678, tzinfo=timezone.utc)
TIMEOUT = 5


# --- servers: one modern and one legacy for the module, a fresh store per test --------------


@dataclass
class Sides:
    modern: str  # base URL of the modern services
    legacy: str  # base URL of the legacy bus
    store: DemoStore
    modern_app: SwappableApp

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(self.modern + path, params=params, timeout=TIMEOUT)

    def post(self, path: str, body: Any) -> requests.Response:
        return requests.post(self.modern + path, json=body, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[ServerThread, ServerThread, SwappableApp, SwappableApp]]:
    modern, legacy = SwappableApp(), SwappableApp()
    with ServerThread(modern) as modern_server, ServerThread(legacy) as legacy_server:
        yield modern_server, legacy_server, modern, legacy


@pytest.fixture
def sides(servers: tuple[ServerThread, ServerThread, SwappableApp, SwappableApp]) -> Iterator[Sides]:
    modern_server, legacy_server, modern, legacy = servers
    store = DemoStore(clock=lambda: NOW)
    modern.target = make_modern_app(store)
    legacy.target = make_legacy_app(store)
    try:
        yield Sides(modern_server.url, legacy_server.url, store, modern)
    finally:
        modern.target = legacy.target = None


# --- the legacy side: raw SOAP in, leaves out ------------------------------------------------

Fields = list[tuple[str, "str | Fields"]]
Leaves = list[tuple[str, str]]


def _xml(fields: Fields) -> str:
    parts = []
    for name, value in fields:
        inner = escape(value) if isinstance(value, str) else _xml(value)
        parts.append(f"<op:{name}>{inner}</op:{name}>")
    return "".join(parts)


def soap(sides: Sides, service_name: str, operation: str, fields: Fields) -> etree._Element:
    """The legacy bus's answer: the response element, or the fault's ServiceFault detail."""
    service = SERVICE[service_name]
    payload = f'<op:{operation} xmlns:op="{service.namespace}">{_xml(fields)}</op:{operation}>'
    body = (
        f'<s:Envelope xmlns:s="{service.version.namespace}"><s:Body>{payload}</s:Body></s:Envelope>'
    ).encode()
    response = requests.post(
        sides.legacy + service.path,
        data=body,
        headers={"Content-Type": service.version.content_type},
        timeout=TIMEOUT,
    )
    root = parse_xml(response.content)
    if response.status_code == 500:
        return next(root.iter(f"{{{service.namespace}}}ServiceFault"))
    assert response.status_code == 200, response.text
    return root.find(f"{{{service.version.namespace}}}Body")[0]


def leaves(element: etree._Element, prefix: str = "") -> Leaves:
    """Every leaf under `element` as (path of local names, text), in document order."""
    out: Leaves = []
    for child in element:
        path = f"{prefix}{etree.QName(child).localname}"
        if len(child):
            out.extend(leaves(child, path + "/"))
        else:
            out.append((path, child.text or ""))
    return out


def fault(element: etree._Element) -> tuple[str, str]:
    """(errorCode, field) of a ServiceFault."""
    assert etree.QName(element).localname == "ServiceFault", etree.tostring(element)
    ns = etree.QName(element).namespace
    return element.findtext(f"{{{ns}}}errorCode"), element.findtext(f"{{{ns}}}field")


# --- JSON -> legacy, as a translator would do it ---------------------------------------------


def ddmmyyyy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def yyyymmdd(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%Y%m%d")


def yn(flag: bool) -> str:
    assert isinstance(flag, bool)
    return "Y" if flag else "N"


def joined(address: dict[str, Any]) -> str:
    return ", ".join(address["lines"])


def person_leaves(person: dict[str, Any], tag: str) -> Leaves:
    address = person["address"]
    out: Leaves = [
        ("pncId", person["pncId"]),
        ("surname", person["name"]["family"].upper()),
        ("forenames", person["name"]["given"].upper()),
        ("dateOfBirth", ddmmyyyy(person["dateOfBirth"])),
        ("sex", vocab.SEX_BY_WORD[person["sex"]]),
        ("addressLine", joined(address).upper() if address else ""),
        ("postcode", address["postcode"] if address else ""),
    ]
    markers = [vocab.WARNING_MARKERS_BY_WORD[word] for word in person["warningMarkers"]]
    out += [("warningMarkers/marker", code) for code in markers] or [("warningMarkers", "")]
    out += [("wanted", yn(person["wanted"])), ("missing", yn(person["missing"]))]
    return [(f"{tag}/{name}", text) for name, text in out]


def vehicle_leaves(vehicle: dict[str, Any]) -> Leaves:
    out: Leaves = [
        ("vehicle/registrationMark", vehicle["registration"]),
        ("vehicle/make", vehicle["make"]),
        ("vehicle/model", vehicle["model"]),
        ("vehicle/colourCode", vocab.COLOURS_BY_WORD[vehicle["colour"]]),
        ("vehicle/firstRegistered", ddmmyyyy(vehicle["firstRegistered"])),
        ("vehicle/insured", yn(vehicle["insured"])),
        ("vehicle/stolen", yn(vehicle["stolen"])),
    ]
    if vehicle["keeper"] is not None:
        out += person_leaves(vehicle["keeper"], "vehicle/keeper")
    return out


def crime_leaves(crime: dict[str, Any], tag: str = "crimeReport") -> Leaves:
    committed = crime["committed"]
    out: Leaves = [
        ("crimeReference", crime["reference"]),
        ("offenceCode", vocab.OFFENCES_BY_WORD[crime["offence"]]),
        ("statusCode", vocab.CRIME_STATUSES_BY_WORD[crime["status"]]),
        ("committedDate", yyyymmdd(committed["date"])),
    ]
    if committed["time"] is not None:
        hhmm = datetime.strptime(committed["time"], "%H:%M").strftime("%H%M")
        out.append(("committedTime", hhmm))
    out += [
        ("beatCode", crime["beat"]),
        ("addressLine", joined(crime["address"])),
        ("postcode", crime["address"]["postcode"]),
        ("summary", crime["summary"]),
        ("reportingOfficer", crime["officerId"]),
        ("recordedDate", yyyymmdd(crime["recordedOn"])),
    ]
    if crime["victim"] is not None:
        out.append(("victimPncId", crime["victim"]["pncId"]))
    return [(f"{tag}/{name}", text) for name, text in out]


def location_leaves(location: dict[str, Any]) -> Leaves:
    return [
        ("location/addressLine", joined(location["address"])),
        ("location/postcode", location["address"]["postcode"]),
        ("location/latitude", f"{location['coordinates']['lat']:.6f}"),
        ("location/longitude", f"{location['coordinates']['lon']:.6f}"),
        ("location/beatCode", location["beat"]),
        ("location/forceCode", location["force"]),
    ]


def receipt_leaves(statement: dict[str, Any]) -> Leaves:
    received = datetime.strptime(statement["receivedAt"], "%Y-%m-%dT%H:%M:%SZ")
    return [
        ("statementId", statement["statementId"]),
        ("crimeReference", statement["crimeReference"]),
        ("receivedAt", received.strftime("%d/%m/%Y %H:%M:%S")),
    ]


def ok(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


# --- request bodies, and the legacy fields for the same request ------------------------------


def crime_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "offence": "theft-from-vehicle",
        "committed": {"date": "2026-03-09", "time": "21:30"},
        "beat": "TS02",
        "address": {"lines": ["112 Riverside Walk", "Turnbridge"], "postcode": "tb36rw"},
        "summary": "Passenger window smashed, bag taken from the footwell.",
        "officerId": "PC5518",
        "victim": {"pncId": "98/136620Y"},
    }
    body.update(changes)
    return body


def crime_fields(body: dict[str, Any]) -> Fields:
    """The CreateCrimeReport request carrying the same values as `body`."""
    fields: Fields = [
        ("offenceCode", vocab.OFFENCES_BY_WORD[body["offence"]]),
        ("committedDate", yyyymmdd(body["committed"]["date"])),
    ]
    if body["committed"].get("time"):
        fields.append(("committedTime", body["committed"]["time"].replace(":", "")))
    fields += [
        ("beatCode", body["beat"]),
        ("addressLine", joined(body["address"])),
        ("postcode", body["address"]["postcode"]),
        ("summary", body["summary"]),
        ("reportingOfficer", body["officerId"]),
    ]
    if body.get("victim"):
        fields.append(("victimPncId", body["victim"]["pncId"]))
    return fields


def statement_body(crime_reference: str = "CR/2026/000108", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "crimeReference": crime_reference,
        "witness": {
            "name": {"given": "Harriet Jane", "family": "Lowe"},
            "dateOfBirth": "1990-05-01",
            "address": {"lines": ["3 Hollowmead Rise", "Turnbridge"], "postcode": "TB1 7HQ"},
        },
        "text": "I saw a cyclist grab the phone and ride off towards the bridge.",
        "officerId": "DC0912",
    }
    body.update(changes)
    return body


def statement_fields(body: dict[str, Any]) -> Fields:
    witness = body["witness"]
    return [
        (
            "witness",
            [
                ("surname", witness["name"]["family"]),
                ("forenames", witness["name"]["given"]),
                ("dateOfBirth", ddmmyyyy(witness["dateOfBirth"])),
                ("addressLine", joined(witness["address"])),
                ("postcode", witness["address"]["postcode"]),
            ],
        ),
        ("statementText", body["text"]),
        ("officerId", body["officerId"]),
        ("crimeReference", body["crimeReference"]),
    ]


# --- vocabulary -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "store_codes"),
    [
        (vocab.WARNING_MARKERS, WARNING_MARKERS),
        (vocab.COLOURS, COLOUR_CODES),
        (vocab.OFFENCES, OFFENCE_CODES),
        (vocab.CRIME_STATUSES, CRIME_STATUSES),
    ],
)
def test_every_store_code_has_exactly_one_word(
    words: dict[str, str], store_codes: dict[str, str]
) -> None:
    assert set(words) == set(store_codes)
    assert len(set(words.values())) == len(words)
    assert all(word == word.lower() and " " not in word for word in words.values())


@pytest.mark.parametrize(
    "words", [vocab.SEX, vocab.WARNING_MARKERS, vocab.COLOURS, vocab.OFFENCES, vocab.CRIME_STATUSES]
)
def test_the_words_are_the_ones_the_document_promises(words: dict[str, str]) -> None:
    """docs/modern-services.md is what translators are written against."""
    document = (Path(__file__).parent.parent / "docs" / "modern-services.md").read_text()
    for code, word in words.items():
        assert f"| `{code}` | `{word}` |" in document, (code, word)


def test_references_travel_in_paths_with_dashes() -> None:
    assert vocab.url_id("CR/2026/000111") == "CR-2026-000111"
    assert vocab.crime_reference_from_id("cr-2026-000111") == "CR/2026/000111"
    assert vocab.crime_reference_from_id("CR/2026/000111") is None
    assert vocab.crime_reference_from_id("CR-2026-11") is None
    assert vocab.statement_id_from_id("ws-2026-000001") == "WS/2026/000001"
    assert vocab.pnc_id_from_id("98-118402b") == "98/118402B"


# --- parity: every legacy reply is derivable from the JSON reply ----------------------------


def test_person_enquiry_is_reproducible_from_people_search_in_legacy_order(sides: Sides) -> None:
    surnames = sorted({person.surname for person in sides.store.people()})
    queries: list[tuple[str, str | None, str | None]] = [(s, None, None) for s in surnames]
    queries += [
        ("ASHGROVE", "w", None),
        ("penhallow", None, "1977-02-14"),
        ("Marchbank", "eleanor grace", "1972-12-01"),
        ("Nobody", None, None),
    ]
    people_seen = set()
    for surname, forenames, dob in queries:
        params = {"surname": surname, "forenames": forenames, "dob": dob}
        found = ok(sides.get("/people", **{k: v for k, v in params.items() if v}))
        fields: Fields = [("surname", surname)]
        if forenames:
            fields.append(("forenames", forenames))
        if dob:
            fields.append(("dateOfBirth", ddmmyyyy(dob)))
        legacy = leaves(soap(sides, "pnc", "PersonEnquiry", fields))
        derived = [("matchCount", str(found["total"]))]
        for person in found["items"]:
            derived += person_leaves(person, "person")
            people_seen.add(person["pncId"])
        assert derived == legacy, (surname, forenames, dob)
    assert people_seen == {person.pnc_id for person in sides.store.people()}


def test_vehicle_enquiry_is_reproducible_for_every_vehicle(sides: Sides) -> None:
    for vehicle in sides.store.vehicles():
        found = ok(sides.get(f"/vehicles/{vehicle.registration.replace(' ', '')}"))
        legacy = soap(sides, "pnc", "VehicleEnquiry", [("registrationMark", vehicle.registration)])
        assert vehicle_leaves(found) == leaves(legacy)


def test_get_crime_report_is_reproducible_for_every_crime(sides: Sides) -> None:
    for crime in sides.store.crimes():
        found = ok(sides.get(f"/crimes/{vocab.url_id(crime.reference)}"))
        legacy = soap(sides, "cris", "GetCrimeReport", [("crimeReference", crime.reference)])
        assert crime_leaves(found) == leaves(legacy)


def test_search_crime_reports_order_and_paging_are_reproducible(sides: Sides) -> None:
    searches: list[tuple[str | None, str | None]] = [(code, None) for code in OFFENCE_CODES]
    searches += [(None, beat) for beat in BEAT_CODES] + [("TOMV", "TN02"), (None, "ZZ99")]
    for offence, beat in searches:
        for page_size in (1, 2, 10):
            for page in (1, 2, 3):
                params: dict[str, Any] = {"page": page, "pageSize": page_size}
                fields: Fields = []
                if offence:
                    params["offence"] = vocab.OFFENCES[offence]
                    fields.append(("offenceCode", offence))
                if beat:
                    params["beat"] = beat
                    fields.append(("beatCode", beat))
                fields += [("pageNumber", str(page)), ("pageSize", str(page_size))]
                found = ok(sides.get("/crimes", **params))
                derived = [
                    ("totalRecords", str(found["total"])),
                    ("pageNumber", str(found["page"])),
                    ("pageSize", str(found["pageSize"])),
                ]
                for crime in found["items"]:
                    derived += crime_leaves(crime)
                assert derived == leaves(soap(sides, "cris", "SearchCrimeReports", fields))


def test_dates_times_and_timestamps_are_iso_8601(sides: Sides) -> None:
    crimes = ok(sides.get("/crimes", beat="TC01"))["items"]
    assert [c["committed"] for c in crimes] == [
        {"date": "2026-02-02", "time": "01:30"},
        {"date": "2026-02-06", "time": "15:20"},
    ]
    assert crimes[0]["recordedOn"] == "2026-02-02"
    person = ok(sides.get("/people/98-093368P"))
    assert person["dateOfBirth"] == "1968-02-29"
    assert person["warningMarkers"] == ["mental-health"]
    filed = ok(sides.post("/statements", statement_body()), 201)
    assert filed["receivedAt"] == "2026-03-10T09:15:02Z"


def test_search_defaults_to_the_first_page_of_ten_like_the_bus(sides: Sides) -> None:
    found = ok(sides.get("/crimes", beat="TC02"))
    assert (found["page"], found["pageSize"], found["total"]) == (1, 10, 2)
    assert [c["reference"] for c in found["items"]] == ["CR/2026/000102", "CR/2026/000103"]


def test_resolve_location_is_reproducible_by_postcode_and_by_address(sides: Sides) -> None:
    for location in sides.store.locations():
        compact = location.postcode.replace(" ", "").lower()
        by_postcode = ok(sides.get("/locations", postcode=compact))
        legacy = soap(sides, "geo", "ResolveLocation", [("postcode", compact)])
        assert location_leaves(by_postcode) == leaves(legacy)
        shouted = location.address_line.upper().replace(",", " ")
        by_address = ok(sides.get("/locations", address=shouted))
        legacy = soap(sides, "geo", "ResolveLocation", [("addressLine", shouted)])
        assert location_leaves(by_address) == leaves(legacy)
        assert by_address == by_postcode


def test_a_postcode_wins_over_an_address_on_both_sides(sides: Sides) -> None:
    found = ok(sides.get("/locations", postcode="TB3 9WS", address="nowhere at all"))
    asked: Fields = [("addressLine", "nowhere at all"), ("postcode", "TB3 9WS")]
    legacy = soap(sides, "geo", "ResolveLocation", asked)
    assert found["id"] == "LOC10"
    assert location_leaves(found) == leaves(legacy)


def test_every_seeded_person_and_vehicle_carries_every_field_of_the_store(sides: Sides) -> None:
    store = sides.store
    for person in store.people():
        found = ok(sides.get(f"/people/{vocab.url_id(person.pnc_id)}"))
        location = store.location(person.location_id)
        assert location is not None
        assert found == {
            "pncId": person.pnc_id,
            "name": {"given": person.forenames, "family": person.surname},
            "dateOfBirth": person.born_on.isoformat(),
            "sex": {"M": "male", "F": "female"}[person.sex],
            "address": {
                "lines": location.address_line.split(", "),
                "postcode": location.postcode,
            },
            "warningMarkers": [
                WARNING_MARKERS[code].replace(" ", "-") for code in person.warning_markers
            ],
            "wanted": person.wanted,
            "missing": person.missing,
        }
    for vehicle in store.vehicles():
        found = ok(sides.get(f"/vehicles/{vehicle.registration.lower()}"))
        keeper = store.person(vehicle.keeper_id)
        assert keeper is not None
        assert found["keeper"] == ok(sides.get(f"/people/{vocab.url_id(keeper.pnc_id)}"))
        assert {k: v for k, v in found.items() if k != "keeper"} == {
            "registration": vehicle.registration,
            "make": vehicle.make,
            "model": vehicle.model,
            "colour": COLOUR_CODES[vehicle.colour],
            "firstRegistered": vehicle.first_registered.isoformat(),
            "insured": vehicle.insured,
            "stolen": vehicle.stolen,
        }


def test_vehicle_marks_ignore_case_and_spaces(sides: Sides) -> None:
    expected = ok(sides.get("/vehicles/TB19XKF"))
    assert ok(sides.get("/vehicles/tb19%20xkf")) == expected
    assert ok(sides.get("/vehicles/TB 19 XK F")) == expected
    assert expected["registration"] == "TB19 XKF"


# --- writes across the two sides ------------------------------------------------------------


def test_crime_filed_as_json_is_read_back_by_the_legacy_bus(sides: Sides) -> None:
    body = crime_body()
    response = sides.post("/crimes", body)
    created = ok(response, 201)
    assert created["reference"] == "CR/2026/000111"
    assert response.headers["location"] == "/crimes/CR-2026-000111"
    assert created["status"] == "recorded" and created["recordedOn"] == "2026-03-10"
    assert created["address"]["postcode"] == "TB3 6RW"  # normalised
    legacy = soap(sides, "cris", "GetCrimeReport", [("crimeReference", created["reference"])])
    assert crime_leaves(created) == leaves(legacy)
    assert ok(sides.get(f"/crimes/{created['id']}")) == created

    # the same request filed on the bus: the reply differs only in the reference allocated
    legacy_reply = leaves(soap(sides, "cris", "CreateCrimeReport", crime_fields(body)))
    derived = [
        ("crimeReference", "CR/2026/000112"),
        ("statusCode", vocab.CRIME_STATUSES_BY_WORD[created["status"]]),
        ("recordedDate", yyyymmdd(created["recordedOn"])),
    ]
    assert legacy_reply == derived


def test_crime_filed_on_the_legacy_bus_is_read_back_as_json(sides: Sides) -> None:
    body = crime_body(committed={"date": "2026-02-28"}, victim=None)
    reply = leaves(soap(sides, "cris", "CreateCrimeReport", crime_fields(body)))
    reference = dict(reply)["crimeReference"]
    found = ok(sides.get(f"/crimes/{vocab.url_id(reference).lower()}"))
    assert found["committed"] == {"date": "2026-02-28", "time": None}
    assert found["victim"] is None
    assert found["offence"] == body["offence"] and found["summary"] == body["summary"]
    legacy = soap(sides, "cris", "GetCrimeReport", [("crimeReference", reference)])
    assert crime_leaves(found) == leaves(legacy)


def test_witness_statements_cross_both_ways(sides: Sides) -> None:
    body = statement_body()
    response = sides.post("/statements", body)
    filed = ok(response, 201)
    assert response.headers["location"] == "/statements/WS-2026-000001"
    assert filed["receivedAt"] == "2026-03-10T09:15:02Z"
    assert filed["witness"] == body["witness"] | {
        "address": {"lines": body["witness"]["address"]["lines"], "postcode": "TB1 7HQ"}
    }

    legacy_reply = leaves(soap(sides, "eforms", "SubmitWitnessStatement", statement_fields(body)))
    assert legacy_reply == receipt_leaves(filed | {"statementId": "WS/2026/000002"})
    on_bus = ok(sides.get("/statements/WS-2026-000002"))
    assert {k: v for k, v in on_bus.items() if k not in ("statementId", "id")} == {
        k: v for k, v in filed.items() if k not in ("statementId", "id")
    }


def test_a_statement_about_a_crime_filed_as_json_is_accepted_by_the_bus(sides: Sides) -> None:
    created = ok(sides.post("/crimes", crime_body()), 201)
    reply = leaves(
        soap(
            sides,
            "eforms",
            "SubmitWitnessStatement",
            statement_fields(statement_body(created["reference"])),
        )
    )
    assert dict(reply)["crimeReference"] == created["reference"]


# --- dry runs -------------------------------------------------------------------------------


def _snapshot(store: DemoStore) -> tuple[Any, ...]:
    return (
        store.crimes(),
        store.statements(),
        store.next_crime_reference(),
        store.next_statement_id(),
    )


def test_crime_dry_run_writes_nothing_and_answers_what_create_would(sides: Sides) -> None:
    before = _snapshot(sides.store)
    first = ok(sides.post("/crimes/validate", crime_body()))
    second = ok(sides.post("/crimes/validate", crime_body()))
    assert _snapshot(sides.store) == before
    assert first == second and first["dryRun"] is True
    created = ok(sides.post("/crimes", crime_body()), 201)
    assert created == first["wouldCreate"]
    assert ok(sides.get(f"/crimes/{created['id']}")) == created


def test_statement_dry_run_writes_nothing_and_answers_what_submit_would(sides: Sides) -> None:
    before = _snapshot(sides.store)
    dry = ok(sides.post("/statements/validate", statement_body()))
    assert _snapshot(sides.store) == before
    assert sides.get(f"/statements/{dry['wouldCreate']['id']}").status_code == 404
    filed = ok(sides.post("/statements", statement_body()), 201)
    assert filed == dry["wouldCreate"]


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ("/crimes", crime_body(officerId="constable")),
        ("/crimes", crime_body(committed={"date": "2026-03-11"})),
        ("/crimes", crime_body(victim={"pncId": "98/000000A"})),
        ("/statements", statement_body("CR/1")),
        ("/statements", statement_body("CR/2026/999999")),
    ],
)
def test_dry_runs_refuse_what_the_writes_refuse(
    sides: Sides, path: str, bad: dict[str, Any]
) -> None:
    before = _snapshot(sides.store)
    dry = sides.post(f"{path}/validate", bad)
    real = sides.post(path, bad)
    assert dry.status_code == real.status_code == 422
    assert dry.json() == real.json()
    assert _snapshot(sides.store) == before


# --- problems -------------------------------------------------------------------------------


def problem(response: requests.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_BASE + kind
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def invalid_names(body: dict[str, Any]) -> list[str]:
    return [param["name"] for param in body["invalidParams"]]


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/vehicles/TB99ZZZ", "no vehicle with registration mark TB99 ZZZ"),
        ("/crimes/CR-2026-999999", "no crime report CR/2026/999999"),
        ("/people/98-000000A", "no person with PNC id 98/000000A"),
        ("/locations?postcode=TB9%209ZZ", "no location found for postcode TB9 9ZZ"),
        ("/statements/WS-2026-000009", "no witness statement WS/2026/000009"),
        ("/crimes/CR/2026/000101", "nothing at /crimes/CR/2026/000101"),
        ("/nowhere", "nothing at /nowhere"),
    ],
)
def test_unknown_records_and_routes_are_404_problems(sides: Sides, path: str, detail: str) -> None:
    assert problem(sides.get(path), 404, "not-found")["detail"] == detail


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/people", ["surname"]),
        ("/people?surname=" + "x" * 36, ["surname"]),
        ("/people?surname=Ashgrove&dob=25/12/1949", ["dob"]),
        ("/people?surname=Ashgrove&dob=2023-02-29&forenames=" + "y" * 51, ["forenames", "dob"]),
        ("/people/98118402B", ["pncId"]),
        ("/vehicles/TB-19", ["vrm"]),
        ("/crimes/CR-26-1", ["crimeId"]),
        ("/statements/000001", ["statementId"]),
        ("/crimes", ["offence"]),
        ("/crimes?offence=BURG", ["offence"]),
        ("/crimes?beat=tn01", ["beat"]),
        ("/crimes?beat=TN01&page=0&pageSize=51", ["page", "pageSize"]),
        ("/crimes?beat=TN01&page=two", ["page"]),
        ("/locations", ["address"]),
        ("/locations?postcode=TB1%204LX%20XX", ["postcode"]),
    ],
)
def test_bad_parameters_are_400_problems_naming_each(
    sides: Sides, path: str, names: list[str]
) -> None:
    assert invalid_names(problem(sides.get(path), 400, "invalid-parameters")) == names


def test_a_body_missing_everything_names_every_field_in_the_legacy_order(sides: Sides) -> None:
    body = problem(sides.post("/crimes", {}), 422, "invalid-body")
    assert invalid_names(body) == [
        "offence",
        "beat",
        "officerId",
        "committed.date",
        "address.lines",
        "address.postcode",
        "summary",
    ]
    body = problem(sides.post("/statements", {"witness": {}}), 422, "invalid-body")
    assert invalid_names(body) == [
        "witness.name.family",
        "witness.name.given",
        "witness.dateOfBirth",
        "witness.address.lines",
        "witness.address.postcode",
        "text",
        "officerId",
        "crimeReference",
    ]


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"offence": "BURG"}, "offence"),
        ({"committed": "2026-03-09"}, "committed"),
        ({"committed": {"date": "2026-03-09", "time": "2130"}}, "committed.time"),
        ({"committed": {"date": "2026-02-30"}}, "committed.date"),
        ({"address": {"lines": ["ok", ""], "postcode": "TB1 4LX"}}, "address.lines"),
        ({"address": {"lines": ["x" * 121], "postcode": "TB1 4LX"}}, "address.lines"),
        ({"summary": 42}, "summary"),
        ({"summary": "x" * 2001}, "summary"),
        ({"beat": "ZZ01"}, "beat"),
        ({"victim": "98/136620Y"}, "victim"),
    ],
)
def test_invalid_crime_fields_are_422_problems(
    sides: Sides, changes: dict[str, Any], name: str
) -> None:
    body = problem(sides.post("/crimes", crime_body(**changes)), 422, "invalid-body")
    assert invalid_names(body) == [name]
    assert sides.store.next_crime_reference() == "CR/2026/000111"


@pytest.mark.parametrize(
    ("path", "body", "kind", "code", "legacy_field"),
    [
        ("/crimes", crime_body(officerId="pc5518"), "invalid-body", "INVAL", "reportingOfficer"),
        ("/crimes", crime_body(summary=" "), "invalid-body", "INVAL", "summary"),
        (
            "/crimes",
            crime_body(victim={"pncId": "98/000000A"}),
            "unknown-reference",
            "NOREC",
            "victimPncId",
        ),
        (
            "/crimes",
            crime_body(committed={"date": "2026-03-11"}, victim={"pncId": "98/000000A"}),
            "unknown-reference",
            "NOREC",
            "victimPncId",
        ),
        (
            "/crimes",
            crime_body(committed={"date": "2026-03-11"}),
            "invalid-body",
            "INVAL",
            "committedDate",
        ),
        (
            "/statements",
            statement_body("CR/2026/999999"),
            "unknown-reference",
            "NOREC",
            "crimeReference",
        ),
        ("/statements", statement_body(text=""), "invalid-body", "INVAL", "statementText"),
    ],
)
def test_the_first_invalid_param_is_the_field_the_legacy_fault_names(
    sides: Sides, path: str, body: dict[str, Any], kind: str, code: str, legacy_field: str
) -> None:
    to_legacy = {
        "officerId": "reportingOfficer" if path == "/crimes" else "officerId",
        "summary": "summary",
        "victim.pncId": "victimPncId",
        "committed.date": "committedDate",
        "crimeReference": "crimeReference",
        "text": "statementText",
    }
    found = problem(sides.post(path, body), 422, kind)
    assert to_legacy[found["invalidParams"][0]["name"]] == legacy_field
    if path == "/crimes":
        legacy = soap(sides, "cris", "CreateCrimeReport", crime_fields(body))
    else:
        legacy = soap(sides, "eforms", "SubmitWitnessStatement", statement_fields(body))
    assert fault(legacy) == (code, legacy_field)


def test_the_witness_itself_missing_is_named_like_the_bus_names_it(sides: Sides) -> None:
    body = statement_body()
    del body["witness"]
    assert invalid_names(problem(sides.post("/statements", body), 422, "invalid-body")) == [
        "witness"
    ]


@pytest.mark.parametrize("path", ["/crimes", "/crimes/validate", "/statements"])
@pytest.mark.parametrize(
    "data", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe{", b'{"a": NaN}', b"[" * 100_000]
)
def test_bodies_that_are_not_a_json_object_are_400_problems(
    sides: Sides, path: str, data: bytes
) -> None:
    response = requests.post(
        sides.modern + path,
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    problem(response, 400, "malformed-json")


def test_a_body_that_is_not_json_by_content_type_is_a_415_problem(sides: Sides) -> None:
    response = requests.post(
        sides.modern + "/crimes",
        data="offence=robbery",
        timeout=TIMEOUT,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    problem(response, 415, "unsupported-media-type")
    response = requests.post(
        sides.modern + "/crimes/validate",
        data=json.dumps(crime_body()),
        timeout=TIMEOUT,
        headers={"Content-Type": "application/vnd.turnout+json; charset=utf-8"},
    )
    assert response.status_code == 200


def _padded(size: int) -> bytes:
    """A valid crime body of exactly `size` bytes (trailing spaces are valid JSON)."""
    raw = json.dumps(crime_body()).encode()
    return raw + b" " * (size - len(raw))


def test_bodies_over_one_mebibyte_are_413_problems_with_or_without_a_length(
    sides: Sides,
) -> None:
    at_limit = requests.post(
        sides.modern + "/crimes/validate",
        data=_padded(MAX_BODY_BYTES),
        timeout=TIMEOUT,
        headers={"Content-Type": "application/json"},
    )
    assert at_limit.status_code == 200, at_limit.text
    declared = requests.post(
        sides.modern + "/crimes",
        data=_padded(MAX_BODY_BYTES + 1),
        timeout=TIMEOUT,
        headers={"Content-Type": "application/json"},
    )
    problem(declared, 413, "payload-too-large")

    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to refuse early
        yield b'{"summary": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    chunked = requests.post(
        sides.modern + "/statements",
        data=chunks(),
        timeout=TIMEOUT,
        headers={"Content-Type": "application/json"},
    )
    problem(chunked, 413, "payload-too-large")
    assert _snapshot(sides.store)[:2] == (sides.store.crimes(), [])
    assert sides.store.next_crime_reference() == "CR/2026/000111"


def test_wrong_methods_are_405_problems_that_say_what_is_allowed(sides: Sides) -> None:
    response = requests.delete(sides.modern + "/crimes", timeout=TIMEOUT)
    problem(response, 405, "method-not-allowed")
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "POST"}
    problem(
        requests.put(sides.modern + "/crimes/validate", timeout=TIMEOUT), 405, "method-not-allowed"
    )


def test_a_bug_is_a_500_problem_without_a_traceback(
    sides: Sides, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sides.store, "search_people", broken)
    response = sides.get("/people", surname="Ashgrove")
    body = problem(response, 500, "server-error")
    assert "fire" not in response.text and "Traceback" not in response.text
    assert "invalidParams" not in body


# --- apps -----------------------------------------------------------------------------------

#: one path each service answers 200 on
OWN_PATH = {
    "pnc": "/vehicles/TB19XKF",
    "cris": "/crimes/CR-2026-000101",
    "geo": "/locations?postcode=TB1%204LX",
    "eforms": "/statements/WS-2026-000001",
}


def test_each_app_serves_its_own_paths_only_and_the_combined_app_serves_all(
    sides: Sides,
) -> None:
    ok(sides.post("/statements", statement_body()), 201)  # so eforms has a record to read
    apps = make_modern_apps(sides.store)
    assert set(apps) == set(SERVICE_ROUTES) == {"pnc", "cris", "geo", "eforms", "merlin"}
    combined = sides.modern_app.target
    for name, app in apps.items():
        sides.modern_app.target = app
        for other, path in OWN_PATH.items():
            expected = 200 if other == name else 404
            assert sides.get(path).status_code == expected, (name, path)
    sides.modern_app.target = combined
    for path in OWN_PATH.values():
        ok(sides.get(path))


def test_no_two_services_share_a_path() -> None:
    store = DemoStore()
    owners: dict[str, set[str]] = {}
    for name, make_routes in SERVICE_ROUTES.items():
        for route in make_routes(store):
            owners.setdefault(route.path, set()).add(name)  # type: ignore[attr-defined]
    assert all(len(names) == 1 for names in owners.values()), owners
