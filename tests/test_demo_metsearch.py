"""MetSearch in the demo: one SOAP search the bus answers from PNC, CRIS and MERLIN at once, and
the fan-out translator that answers it from three modern services, concurrently.

The bus and the translator follow one rule (turnout/demo/bus/metsearch.py): hits about the same
PNC person are merged into one (the others listed in `alsoIn`), ranked by score, then source,
then the order the source answered in; a source that does not answer within its timeout is named
in `sourcesUnavailable`. The slow path is switched on in the store both sides read
(`DemoStore.slow_source`), so bus and translator see the same late source.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
import requests
import yaml
from lxml import etree

from turnout.compare import diff, load_rules, rules_for
from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from turnout.demo.bus import SERVICES
from turnout.demo.bus.documents import load_schema
from turnout.demo.config import DEMO_CONFIG, write_demo_config
from turnout.demo.translators import DIRECTORY
from turnout.routing import set_route
from turnout.soap import parse_xml, read_envelope
from turnout.translators import JsonReply, NoAnswer, TranslatorSet, load_translators

from .support.proxy_process import ProxyProcess

NS = "urn:police:metsearch:v1"
M = {"ms": NS}
CONTENT_TYPE = "text/xml; charset=utf-8"
METSEARCH = next(service for service in SERVICES if service.name == "metsearch")
SLOW = 6.0  # seconds a switched-off source waits: well past the 2 s per-source timeout


def search(**fields: str) -> bytes:
    inner = "".join(f"<ms:{k}>{escape(v)}</ms:{k}>" for k, v in fields.items())
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ms="{NS}"><soap:Body><ms:Search>{inner}</ms:Search></soap:Body></soap:Envelope>'
    ).encode()


def post(url: str, body: bytes) -> requests.Response:
    return requests.post(f"{url}/metsearch", data=body, timeout=20, headers={
        "Content-Type": CONTENT_TYPE, "SOAPAction": f'"{NS}#Search"'})


def hits(body: bytes) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(source, reference, score, [alsoIn (source, reference)]) per hit, in order."""
    root = parse_xml(body)
    return [(hit.findtext("ms:source", namespaces=M), hit.findtext("ms:reference", namespaces=M),
             hit.findtext("ms:score", namespaces=M),
             [(a.findtext("ms:source", namespaces=M), a.findtext("ms:reference", namespaces=M))
              for a in hit.iterfind("ms:alsoIn", M)])
            for hit in root.iterfind(".//ms:SearchResponse/ms:hit", M)]


def unavailable(body: bytes) -> list[str]:
    return [s.text or "" for s in parse_xml(body).iterfind(".//ms:sourcesUnavailable/ms:source", M)]


def assert_valid(body: bytes) -> None:
    schema = load_schema(METSEARCH)
    payload = parse_xml(body).find("{*}Body")[0]
    assert schema.validate(etree.ElementTree(payload)), schema.error_log


@pytest.fixture
def store() -> DemoStore:
    return DemoStore()


@pytest.fixture
def servers(store: DemoStore) -> Iterator[tuple[str, str]]:
    with ServerThread(make_legacy_app(store)) as bus, ServerThread(make_modern_app(store)) as services:
        yield bus.url, services.url


@pytest.fixture(scope="module")
def translators() -> TranslatorSet:
    return load_translators(DIRECTORY)


# --- the bus ---------------------------------------------------------------------------------


def test_bus_merges_one_person_from_three_sources_and_ranks_the_rest(servers: tuple[str, str]) -> None:
    bus, _ = servers
    answer = post(bus, search(surname="Thistlewood"))
    assert answer.status_code == 200
    assert_valid(answer.content)
    assert hits(answer.content) == [  # equal scores: in PNC's own order (by forenames)
        ("PNC", "98/118402B", "60", []),
        ("PNC", "98/104233K", "60", [("MERLIN", "MER/2026/000008"), ("CRIS", "CR/2026/000101")]),
    ]
    assert unavailable(answer.content) == []
    # forenames raise the score; a MERLIN record of no PNC person stands alone, scored by
    # MERLIN (its surname matches, its forenames do not)
    assert hits(post(bus, search(surname="Quillfeather", forenames="Oph")).content) == [
        ("PNC", "98/120577D", "85", [("MERLIN", "MER/2026/000001")]),
        ("MERLIN", "MER/2026/000006", "60", []),
    ]
    scored = hits(post(bus, search(surname="Golightly", forenames="Rufus",
                                   dateOfBirth="30/09/1965")).content)
    assert scored == [("PNC", "98/091207X", "100", [("MERLIN", "MER/2026/000004")])]
    assert hits(post(bus, search(surname="Lindqvist")).content) == [
        ("MERLIN", "MER/2026/000002", "40", [])]


def test_bus_names_a_slow_source_and_answers_without_it(servers: tuple[str, str],
                                                        store: DemoStore) -> None:
    bus, _ = servers
    store.slow_source("CRIS", SLOW)
    answer = post(bus, search(surname="Thistlewood"))
    assert_valid(answer.content)
    assert unavailable(answer.content) == ["CRIS"]
    assert hits(answer.content)[1] == ("PNC", "98/104233K", "60", [("MERLIN", "MER/2026/000008")])
    store.slow_source("CRIS", 0)
    store.slow_source("PNC", SLOW)
    without_pnc = post(bus, search(surname="Thistlewood")).content
    assert unavailable(without_pnc) == ["PNC"]
    assert hits(without_pnc) == [("MERLIN", "MER/2026/000008", "60", [("CRIS", "CR/2026/000101")])]


def test_bus_refuses_a_bad_date_with_its_invalid_input_fault(servers: tuple[str, str]) -> None:
    bus, _ = servers
    answer = post(bus, search(surname="Penhallow", dateOfBirth="1975-05-09"))
    assert answer.status_code == 500
    detail = parse_xml(answer.content).find(".//ms:ServiceFault", M)
    assert (detail.findtext("ms:errorCode", namespaces=M), detail.findtext("ms:field", namespaces=M)) == (
        "INVAL", "dateOfBirth")


# --- the modern services ---------------------------------------------------------------------


def test_modern_cris_finds_crimes_by_their_victim(servers: tuple[str, str]) -> None:
    _, services = servers
    found = requests.get(f"{services}/crimes", params={"victimSurname": "Fennimore-Keane"},
                         timeout=10).json()
    assert [item["reference"] for item in found["items"]] == ["CR/2026/000102", "CR/2026/000103"]
    assert found["items"][0]["victim"] == {
        "pncId": "98/125561J", "name": {"given": "Priya", "family": "Fennimore-Keane"},
        "dateOfBirth": "1983-09-17"}
    mixed = requests.get(f"{services}/crimes", params={"victimSurname": "x", "beat": "TN01"},
                         timeout=10)
    assert mixed.status_code == 400 and mixed.json()["invalidParams"][0]["name"] == "beat"


# --- the translator, both halves, offline ----------------------------------------------------


def test_translator_makes_three_optional_calls_and_names_what_did_not_answer(
        translators: TranslatorSet) -> None:
    translator: Any = translators.for_operation("/metsearch Search")
    request = read_envelope(search(surname="Thistlewood", dateOfBirth="14/03/1961"), "/metsearch")
    calls = translator.to_calls(request)
    assert [(c.name, c.call.path, dict(c.call.query), c.optional) for c in calls.calls] == [
        ("pnc", "/people", {"surname": "Thistlewood", "dob": "1961-03-14"}, True),
        ("cris", "/crimes", {"victimSurname": "Thistlewood", "victimDob": "1961-03-14"}, True),
        ("merlin", "/records", {"surname": "Thistlewood", "dob": "1961-03-14"}, True),
    ]
    person = {"pncId": "98/104233K", "name": {"given": "Marjorie Anne", "family": "Thistlewood"},
              "dateOfBirth": "1961-03-14"}
    reply = translator.to_replies({
        "pnc": JsonReply(200, body={"total": 1, "items": [person]}),
        "cris": NoAnswer("service.timeout", "cris did not answer within 2 s"),
        "merlin": JsonReply(503, body=None),
    }, request)
    assert reply.status == 200
    assert_valid(reply.body)
    assert hits(reply.body) == [("PNC", "98/104233K", "75", [])]
    assert unavailable(reply.body) == ["CRIS", "MERLIN"]


# --- through a real proxy process ------------------------------------------------------------


def _proxy_config(tmp_path: Path, bus: str, services: str, mode: str) -> Path:
    config = write_demo_config(tmp_path, bus, services, tmp_path / "rec", authenticate=False)
    set_route(config, "/metsearch Search", mode)
    return config


SEARCHES = [
    {"surname": "Thistlewood"},
    {"surname": "Quillfeather"},
    {"surname": "Golightly", "forenames": "Rufus", "dateOfBirth": "30/09/1965"},
    {"surname": "Fennimore-Keane"},
    {"surname": "Lindqvist"},
    {"surname": "Zzyzx-Nonesuch"},
    {"surname": "Penhallow", "dateOfBirth": "1975-05-09"},
    {"surname": "x" * 36},
]


def test_translator_mode_through_the_proxy_answers_as_the_bus(
        tmp_path: Path, servers: tuple[str, str]) -> None:
    bus, services = servers
    rules = rules_for(load_rules(DEMO_CONFIG.with_name("compare.yaml")), "/metsearch Search")
    with ProxyProcess(_proxy_config(tmp_path, bus, services, "translator")) as proxy:
        for fields in SEARCHES:
            expected = post(bus, search(**fields))
            got = post(proxy.url, search(**fields))
            assert got.status_code == expected.status_code, (fields, got.content)
            result = diff(expected.content, got.content, rules)
            assert result.equal, (fields, result.differences)
    recorded = _recorded(tmp_path / "rec")
    assert {r["route"] for r in recorded} == {"translator"}  # the bus behind saw none of them
    assert all(r["translation"]["kind"] in ("ok", "rejected") for r in recorded)


def _recorded(directory: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text()) for path in sorted(directory.rglob("*.yaml"))
            if "metsearch" in path.parts]


def test_a_slow_source_is_named_by_bus_and_translator_and_parity_holds(
        tmp_path: Path, servers: tuple[str, str], store: DemoStore) -> None:
    """Shadow mode with CRIS switched slow: the client gets the bus's answer naming CRIS, the
    translator's run (recorded) names CRIS too, and the two are equal."""
    bus, services = servers
    store.slow_source("CRIS", SLOW)
    with ProxyProcess(_proxy_config(tmp_path, bus, services, "shadow")) as proxy:
        answer = post(proxy.url, search(surname="Thistlewood"))
        assert answer.status_code == 200 and unavailable(answer.content) == ["CRIS"]
        for _ in range(200):  # the shadow run and its recording end after the client's answer
            shadowed = [r for r in _recorded(tmp_path / "rec") if r.get("translation", {}).get("replies")]
            if shadowed:
                break
            time.sleep(0.05)
    assert len(shadowed) == 1, "the shadowed exchange was not recorded"
    translation = shadowed[0]["translation"]
    assert translation["replies"]["cris"]["unanswered"] == "service.timeout"
    assert translation["replies"]["pnc"]["status"] == 200
    assert translation["equal"] is True, translation.get("diff")
    assert unavailable(shadowed[0]["translated"]["body"].encode()) == ["CRIS"]
