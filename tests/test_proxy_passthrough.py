"""The proxy is transparent for what it forwards, and answers threats and failures with Faults.

Real parts: mitmproxy listening on loopback, a real HTTP server as the bus, raw HTTP clients.
"""

from __future__ import annotations

import http.client
import time
from pathlib import Path
from typing import Iterator

import pytest
from lxml import etree

from turnout.config import ProxyConfig
from turnout.proxy import ProxyThread
from turnout.recording import RecordingStore
from turnout.soap import SOAP11_NS, SOAP12, XmlLimits, parse_xml

from .support.bus import Reply, ScriptedBus

ENVELOPE = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">\n'
    b'  <soap:Body><p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"><p:vrm>AB12CDE</p:vrm></p:VehicleEnquiry></soap:Body>\n'
    b"</soap:Envelope>\n"
)
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'}


@pytest.fixture
def bus() -> Iterator[ScriptedBus]:
    with ScriptedBus() as scripted:
        yield scripted


def start_proxy(bus_url: str, tmp_path: Path, **overrides: object) -> ProxyThread:
    settings: dict[str, object] = {
        "upstream": bus_url, "listen_port": 0, "record_dir": tmp_path / "rec",
        "upstream_timeout": 2.0, "connect_timeout": 1.0,
    }
    settings.update(overrides)
    return ProxyThread(ProxyConfig(**settings)).start()  # type: ignore[arg-type]


def post(proxy: ProxyThread, body: bytes, headers: dict[str, str] | None = None, path: str = "/pnc"):
    conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=20)
    conn.request("POST", path, body=body, headers=headers or SOAP_HEADERS)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def fault_of(body: bytes) -> tuple[str, str, str]:
    """(faultcode, faultstring, turnout kind) of a SOAP 1.1 fault."""
    root = parse_xml(body)
    fault = root.find(f"{{{SOAP11_NS}}}Body/{{{SOAP11_NS}}}Fault")
    assert fault is not None, body
    kind = root.xpath("string(//*[local-name()='kind'])")
    return fault.findtext("faultcode"), fault.findtext("faultstring"), kind


def recorded(tmp_path: Path) -> list:
    return list(RecordingStore(tmp_path / "rec").iter_exchanges())


def test_forwarded_bytes_status_and_headers_are_unchanged(bus: ScriptedBus, tmp_path: Path) -> None:
    bus.reply = Reply(
        status=200,
        headers=[("Content-Type", "text/xml; charset=utf-8"), ("X-Bus-Node", "isb-07"),
                 ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
        body=b"<?xml version='1.0'?>\n<r>  odd   spacing &amp; bytes</r>\r\n",
    )
    proxy = start_proxy(bus.url, tmp_path)
    try:
        response, data = post(proxy, ENVELOPE, {**SOAP_HEADERS, "X-Officer-Device": "tab-42"})
    finally:
        proxy.stop()
    assert response.status == 200
    assert data == bus.reply.body
    assert response.getheader("X-Bus-Node") == "isb-07"
    assert response.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert len(bus.received) == 1
    got = bus.received[0]
    assert got.body == ENVELOPE
    assert got.path == "/pnc"
    assert dict(got.headers)["SOAPAction"] == SOAP_HEADERS["SOAPAction"]
    assert dict(got.headers)["X-Officer-Device"] == "tab-42"
    [exchange] = recorded(tmp_path)
    assert exchange.operation.key == "/pnc VehicleEnquiry"
    assert exchange.outcome == "forwarded"
    assert exchange.response.status == 200


def test_get_requests_pass_through(bus: ScriptedBus, tmp_path: Path) -> None:
    bus.reply = Reply(body=b"<definitions/>")
    proxy = start_proxy(bus.url, tmp_path)
    try:
        conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=10)
        conn.request("GET", "/pnc?wsdl")
        response = conn.getresponse()
        assert response.read() == b"<definitions/>"
    finally:
        proxy.stop()
    assert bus.received[0].method == "GET" and bus.received[0].path == "/pnc?wsdl"


def test_bus_errors_and_odd_replies_reach_client_unchanged(bus: ScriptedBus, tmp_path: Path) -> None:
    multipart = (
        b"--MIMEBoundary\r\nContent-Type: application/xop+xml\r\n\r\n<Envelope/>\r\n--MIMEBoundary--\r\n"
    )
    proxy = start_proxy(bus.url, tmp_path)
    try:
        bus.reply = Reply(status=500, body=b"<not-even-xml", headers=[("Content-Type", "text/xml")])
        response, data = post(proxy, ENVELOPE)
        assert (response.status, data) == (500, b"<not-even-xml")
        bus.reply = Reply(
            headers=[("Content-Type", 'multipart/related; type="application/xop+xml"; boundary="MIMEBoundary"')],
            body=multipart,
        )
        response, data = post(proxy, ENVELOPE)
        assert data == multipart
        assert response.getheader("Content-Type").startswith("multipart/related")
    finally:
        proxy.stop()


DOCTYPE_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&b;</soap:Body></soap:Envelope>'
)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (DOCTYPE_BOMB, "threat.doctype"),
        (ENVELOPE.replace(b"<p:vrm>AB12CDE</p:vrm>", b"<x>" * 100 + b"</x>" * 100), "threat.too-deep"),
    ],
    ids=["entity-bomb", "too-deep"],
)
def test_threats_get_a_fault_and_never_reach_the_bus(bus: ScriptedBus, tmp_path: Path, body: bytes, kind: str) -> None:
    proxy = start_proxy(bus.url, tmp_path)
    try:
        response, data = post(proxy, body)
        assert response.status == 500
        code, reason, got_kind = fault_of(data)
        assert code == "soap:Client" and got_kind == kind
        assert "refused" in reason
        # and the proxy still serves normal traffic afterwards
        ok, _ = post(proxy, ENVELOPE)
        assert ok.status == 200
    finally:
        proxy.stop()
    assert [r.body for r in bus.received] == [ENVELOPE]
    outcomes = sorted(e.outcome for e in recorded(tmp_path))
    assert outcomes == ["forwarded", "rejected"]


def test_soap12_threat_gets_a_soap12_fault(bus: ScriptedBus, tmp_path: Path) -> None:
    proxy = start_proxy(bus.url, tmp_path)
    try:
        response, data = post(proxy, DOCTYPE_BOMB, {"Content-Type": SOAP12.content_type})
    finally:
        proxy.stop()
    assert response.status == 500
    assert response.getheader("Content-Type") == SOAP12.content_type
    assert etree.QName(parse_xml(data)).namespace == SOAP12.namespace
    assert bus.received == []


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_body_gets_a_fault_and_never_reaches_the_bus(bus: ScriptedBus, tmp_path: Path, chunked: bool) -> None:
    proxy = start_proxy(bus.url, tmp_path, limits=XmlLimits(max_bytes=64 * 1024))
    big = ENVELOPE.replace(b"AB12CDE", b"A" * 200_000)
    try:
        conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=20)
        try:
            if chunked:
                chunks = (big[i:i + 8192] for i in range(0, len(big), 8192))
                conn.request("POST", "/pnc", body=chunks, headers=SOAP_HEADERS, encode_chunked=True)
            else:
                conn.request("POST", "/pnc", body=big, headers=SOAP_HEADERS)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the proxy may answer and close before the client has finished sending
        response = conn.getresponse()
        data = response.read()
        conn.close()
        assert response.status == 500
        assert fault_of(data)[2] == "threat.too-large"
        ok, _ = post(proxy, ENVELOPE)
        assert ok.status == 200
    finally:
        proxy.stop()
    assert [r.body for r in bus.received] == [ENVELOPE]


def test_soapaction_mismatch_passes_by_default_and_is_recorded(bus: ScriptedBus, tmp_path: Path) -> None:
    proxy = start_proxy(bus.url, tmp_path)
    try:
        response, _ = post(proxy, ENVELOPE, {**SOAP_HEADERS, "SOAPAction": '"urn:police:pnc:v1#PersonEnquiry"'})
        assert response.status == 200
        assert proxy.state.stats.snapshot().get("soapaction-mismatch") == 1
    finally:
        proxy.stop()
    assert len(bus.received) == 1
    [exchange] = recorded(tmp_path)
    assert "soapaction-mismatch" in exchange.notes


def test_soapaction_mismatch_rejected_when_configured(bus: ScriptedBus, tmp_path: Path) -> None:
    proxy = start_proxy(bus.url, tmp_path, soapaction_mismatch="reject")
    try:
        response, data = post(proxy, ENVELOPE, {**SOAP_HEADERS, "SOAPAction": '"urn:police:pnc:v1#PersonEnquiry"'})
        empty, _ = post(proxy, ENVELOPE, {**SOAP_HEADERS, "SOAPAction": '""'})
    finally:
        proxy.stop()
    assert response.status == 500
    assert fault_of(data)[2] == "soapaction-mismatch"
    assert empty.status == 200  # an empty SOAPAction is no disagreement
    assert [r.body for r in bus.received] == [ENVELOPE]


def test_unreadable_request_reaches_the_bus_unchanged_by_default(bus: ScriptedBus, tmp_path: Path) -> None:
    garbage = b"<soap:Envelope this is not xml at all"
    proxy = start_proxy(bus.url, tmp_path)
    try:
        response, _ = post(proxy, garbage)
    finally:
        proxy.stop()
    assert response.status == 200
    assert [r.body for r in bus.received] == [garbage]
    [exchange] = recorded(tmp_path)
    assert exchange.outcome == "unreadable"


def test_unreadable_request_gets_a_fault_with_reject_unreadable(bus: ScriptedBus, tmp_path: Path) -> None:
    proxy = start_proxy(bus.url, tmp_path, reject_unreadable=True)
    try:
        response, data = post(proxy, b"<soap:Envelope this is not xml at all")
    finally:
        proxy.stop()
    assert response.status == 500
    assert fault_of(data)[2] == "unreadable"
    assert bus.received == []


def test_bus_down_gets_a_fault_that_says_so(tmp_path: Path) -> None:
    with ScriptedBus() as dead:
        dead_url = dead.url  # bound, then closed below: nothing listens there any more
    proxy = start_proxy(dead_url, tmp_path)
    try:
        response, data = post(proxy, ENVELOPE)
    finally:
        proxy.stop()
    assert response.status == 500
    code, reason, kind = fault_of(data)
    assert code == "soap:Server" and kind == "upstream.unreachable"
    assert "unreachable" in reason
    [exchange] = recorded(tmp_path)
    assert exchange.outcome == "upstream-error"


def test_bus_too_slow_gets_a_timeout_fault_within_the_bound(bus: ScriptedBus, tmp_path: Path) -> None:
    bus.reply = Reply(delay=5.0)
    proxy = start_proxy(bus.url, tmp_path, upstream_timeout=0.5)
    try:
        started = time.monotonic()
        response, data = post(proxy, ENVELOPE)
        waited = time.monotonic() - started
    finally:
        proxy.stop()
    assert response.status == 500
    assert fault_of(data)[2] == "upstream.timeout"
    assert waited < 4.0  # well before the bus would have answered
