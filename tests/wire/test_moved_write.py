"""A write moved to its translator never reaches the bus again, by any spelling.

Seen: with `/cris CreateCrimeReport` on its translator (writes, on_error fault), posting it to
`/%63ris`, `/./cris` or `/pnc/../cris`, gzip-compressed, or with a SOAPAction naming another
operation, was executed by the bus, and both systems issued the same crime reference.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.bus import Reply, ScriptedBus
from tests.support.proxy_process import ProxyProcess, raw_exchange

SUPPORT = Path(__file__).parent.parent / "support" / "translators_for_tests.py"
CREATE = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/'
    b'soap/envelope/"><soap:Body><c:CreateCrimeReport xmlns:c="urn:police:cris:v1"><c:offenceCode>'
    b"THEF</c:offenceCode></c:CreateCrimeReport></soap:Body></soap:Envelope>"
)
GET = CREATE.replace(b"CreateCrimeReport", b"GetCrimeReport")
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:cris:v1#CreateCrimeReport"'}


@pytest.fixture(scope="module")
def rig(
    tmp_path_factory: pytest.TempPathFactory, proxy_engine: str
) -> Iterator[tuple[ProxyProcess, ScriptedBus, ScriptedBus]]:
    root = tmp_path_factory.mktemp("moved-write")
    translators = root / "translators"
    translators.mkdir()
    shutil.copy(SUPPORT, translators / "test_translators.py")
    with ScriptedBus() as bus, ScriptedBus() as service:
        bus.reply = Reply(body=b"<from-the-bus/>")
        service.reply = Reply(status=201, headers=[("Content-Type", "application/json")], body=b'{"ref": 1}')
        config = root / "turnout.yaml"
        config.write_text(
            f"upstream: {bus.url}\n"
            "translators: translators\n"
            f"services: {{pnc: {service.url}}}\n"
            "upstream_path_case: insensitive\n"
            "routes:\n"
            "  /cris CreateCrimeReport: {mode: translator, writes: true, on_error: fault}\n"
        )
        with ProxyProcess(config) as proxy:
            yield proxy, bus, service


def create_calls(bus: ScriptedBus) -> int:
    return sum(b"CreateCrimeReport" in r.body or r.body[:2] == b"\x1f\x8b" for r in bus.received)


@pytest.mark.parametrize("path", ["/cris", "/%63ris", "/./cris", "/pnc/../cris", "//cris", "/cris/", "/CRIS",
                                  "/Cr%49s"])
def test_every_spelling_of_the_path_reaches_the_translator_and_never_the_bus(rig, path: str) -> None:
    proxy, bus, service = rig
    before_bus, before_service = create_calls(bus), len(service.received)
    status, _, body = proxy.request("POST", path, CREATE, HEADERS)
    assert (status, body) == (200, b"<created/>")
    assert create_calls(bus) == before_bus
    assert len(service.received) == before_service + 1


def test_a_gzipped_write_reaches_the_translator_and_never_the_bus(rig) -> None:
    proxy, bus, service = rig
    before = create_calls(bus)
    status, _, body = proxy.request("POST", "/cris", gzip.compress(CREATE), {**HEADERS, "Content-Encoding": "gzip"})
    assert (status, body) == (200, b"<created/>")
    assert create_calls(bus) == before


@pytest.mark.parametrize(
    ("body", "action"),
    [(CREATE, '"urn:police:cris:v1#GetCrimeReport"'), (GET, '"urn:police:cris:v1#CreateCrimeReport"')],
    ids=["body-create-action-get", "body-get-action-create"],
)
def test_a_soapaction_naming_another_operation_reaches_neither(rig, body: bytes, action: str) -> None:
    proxy, bus, service = rig
    before_bus, before_service = len(bus.received), len(service.received)
    status, _, answer = proxy.request("POST", "/cris", body, {**HEADERS, "SOAPAction": action})
    assert status == 500 and b"<t:kind>soapaction-mismatch</t:kind>" in answer
    assert len(bus.received) == before_bus and len(service.received) == before_service


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_another_method_with_the_write_in_its_body_is_refused(rig, method: str) -> None:
    proxy, bus, service = rig
    before_bus, before_service = len(bus.received), len(service.received)
    status, _, answer = proxy.request(method, "/cris", CREATE, HEADERS)
    assert status == 500 and b"<t:kind>routing.method</t:kind>" in answer
    assert len(bus.received) == before_bus and len(service.received) == before_service


@pytest.mark.parametrize(
    "body",
    [CREATE + b"<<trailing junk", CREATE.replace(b"utf-8", b"utf-16"), b"not xml at all"],
    ids=["junk-after", "wrong-declared-encoding", "not-xml"],
)
def test_what_cannot_be_read_on_a_service_hosting_a_moved_write_is_refused(rig, body: bytes) -> None:
    proxy, bus, _ = rig
    before = len(bus.received)
    status, _, answer = proxy.request("POST", "/cris", body, HEADERS)
    assert status == 500 and b"<t:kind>routing.unreadable-on-moved-service</t:kind>" in answer
    assert len(bus.received) == before


def test_an_unreadable_body_elsewhere_still_reaches_the_bus(rig) -> None:
    """First, do no harm: where nothing moved, the bus may accept what we cannot read."""
    proxy, bus, _ = rig
    before = len(bus.received)
    status, _, answer = proxy.request("POST", "/pnc", b"not xml at all", HEADERS)
    assert (status, answer) == (200, b"<from-the-bus/>")
    assert bus.received[before].body == b"not xml at all"


def test_a_read_on_the_same_service_still_reaches_the_bus_at_its_normalised_path(rig) -> None:
    proxy, bus, _ = rig
    before = len(bus.received)
    status, _, answer = proxy.request("POST", "/%43ris/./", GET, {**HEADERS, "SOAPAction": '""'})
    assert (status, answer) == (200, b"<from-the-bus/>")
    assert bus.received[before].path == "/cris/"  # what the proxy routed on is what the bus got
