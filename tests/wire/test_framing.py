"""One framing reaches the client, right for its HTTP version; hop-by-hop headers stay behind.

Seen with software we did not write: a bus answering `Transfer-Encoding: chunked` (node-soap does,
for every WSDL) reached the client with both chunked and a Content-Length, and node-soap's client
refused every call; an HTTP/1.0 client got a chunked answer; the bus's Connection and Keep-Alive
reached the client.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.proxy_process import ProxyProcess, raw_exchange

from .servers import WireBus

ANSWER = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/'
    b'soap/envelope/"><soap:Body><p:VehicleEnquiryResponse xmlns:p="urn:police:pnc:v1"><p:colour>'
    b"blue</p:colour></p:VehicleEnquiryResponse></soap:Body></soap:Envelope>"
)
REQUEST = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"><p:vrm>AB12CDE</p:vrm></p:VehicleEnquiry>'
    b"</soap:Body></soap:Envelope>"
)
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'}


def headers_of(raw: bytes) -> tuple[bytes, dict[str, list[str]], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    found: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        found.setdefault(name.strip().lower(), []).append(value.strip())
    return lines[0].encode(), found, body


@pytest.fixture(scope="module")
def chunking_bus() -> Iterator[WireBus]:
    with WireBus(body=ANSWER, chunked=True) as bus:
        yield bus


@pytest.fixture(scope="module")
def proxy(
    chunking_bus: WireBus, tmp_path_factory: pytest.TempPathFactory, proxy_engine: str
) -> Iterator[ProxyProcess]:
    root = tmp_path_factory.mktemp("framing")
    config = root / "turnout.yaml"
    config.write_text(f"upstream: {chunking_bus.url}\nrecordings: {{dir: rec}}\n")
    with ProxyProcess(config, extra=["--unredacted"]) as running:  # nothing personal on this bus
        yield running


def test_a_chunked_bus_answer_reaches_the_client_with_one_framing(proxy: ProxyProcess) -> None:
    raw = raw_exchange(proxy.port, b"POST /pnc HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(REQUEST), REQUEST))
    status, headers, body = headers_of(raw)
    assert status.startswith(b"HTTP/1.1 200")
    assert "transfer-encoding" not in headers
    assert headers["content-length"] == [str(len(ANSWER))]
    assert body == ANSWER  # the bus's bytes, unchanged


def test_hop_by_hop_headers_of_the_bus_never_reach_the_client(proxy: ProxyProcess) -> None:
    status, headers, body = proxy.request("POST", "/pnc", REQUEST, HEADERS)
    names = {name.lower() for name, _ in headers}
    assert status == 200 and body == ANSWER
    assert "keep-alive" not in names
    assert "x-bus-hop" not in names  # named in the bus's Connection header: hop-by-hop too
    assert dict((k.lower(), v) for k, v in headers)["x-end-to-end"] == "kept"
    assert not any(k.lower() == "connection" and "x-bus-hop" in v.lower() for k, v in headers)


def test_an_http10_client_gets_a_length_not_chunks(proxy: ProxyProcess) -> None:
    raw = raw_exchange(proxy.port, b"POST /pnc HTTP/1.0\r\nContent-Type: text/xml\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(REQUEST), REQUEST))
    _, headers, body = headers_of(raw)
    assert "transfer-encoding" not in headers
    assert headers["content-length"] == [str(len(ANSWER))] and body == ANSWER


def test_hop_by_hop_headers_of_the_client_never_reach_the_bus(
    proxy: ProxyProcess, chunking_bus: WireBus
) -> None:
    before = len(chunking_bus.received)
    status, _, _ = proxy.request("POST", "/pnc", REQUEST, {**HEADERS, "Connection": "keep-alive, X-Client-Hop",
                                                           "X-Client-Hop": "secret", "Keep-Alive": "300"})
    assert status == 200
    seen = {k.lower() for k in chunking_bus.received[before].headers}
    assert "x-client-hop" not in seen and "keep-alive" not in seen


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_a_head_answer_keeps_its_length_and_carries_no_body(tmp_path: Path, chunked: bool) -> None:
    with WireBus(body=ANSWER, chunked=chunked) as bus:
        config = tmp_path / "turnout.yaml"
        config.write_text(f"upstream: {bus.url}\n")
        with ProxyProcess(config) as proxy:
            raw = raw_exchange(proxy.port, b"HEAD /pnc?wsdl HTTP/1.1\r\nHost: x\r\n\r\n", timeout=3)
            follow = raw_exchange(proxy.port, b"GET /pnc?wsdl HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = headers_of(raw)
    assert status.startswith(b"HTTP/1.1 200")  # the bus's answer, not a Fault
    assert "transfer-encoding" not in headers
    # the length a GET would have had, when the bus said it; never a made-up 0
    assert headers.get("content-length") == ([str(len(ANSWER))] if not chunked else None)
    assert body == b""
    assert headers_of(follow)[2] == ANSWER


def test_a_chunked_request_with_a_trailer_is_served_and_leaves_nothing_in_flight(
    proxy: ProxyProcess, chunking_bus: WireBus, tmp_path: Path
) -> None:
    half = len(REQUEST) // 2
    chunked = (b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\nX-Checksum: 1234\r\n\r\n"
               % (half, REQUEST[:half], len(REQUEST) - half, REQUEST[half:]))
    raw = raw_exchange(proxy.port, b"POST /pnc HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                       b"Transfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n" + chunked)
    status, _, body = headers_of(raw)
    assert status.startswith(b"HTTP/1.1 200") and body == ANSWER
    assert chunking_bus.received[-1].body == REQUEST
    assert "Traceback" not in proxy.log and "crashed" not in proxy.log


def test_sighup_neither_kills_the_proxy_nor_drops_a_request(chunking_bus: WireBus, tmp_path: Path) -> None:
    config = tmp_path / "turnout.yaml"
    config.write_text(f"upstream: {chunking_bus.url}\nroutes: {{}}\n")
    with ProxyProcess(config) as proxy:
        proxy.signal(signal.SIGHUP)
        status, _, body = proxy.request("POST", "/pnc", REQUEST, HEADERS)
        assert proxy.process is not None and proxy.process.poll() is None
        assert status == 200 and body == ANSWER
        assert proxy.stop() == 0
    assert "SIGHUP" in proxy.log


def test_an_absolute_form_target_reaches_the_bus_as_its_path(proxy: ProxyProcess, chunking_bus: WireBus) -> None:
    """RFC 9112 3.2.2: a server accepts absolute-form; in reverse mode it names the path only."""
    raw = raw_exchange(proxy.port, b"POST http://bus.example/pnc?x=1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(REQUEST), REQUEST))
    status, _, body = headers_of(raw)
    assert status.startswith(b"HTTP/1.1 200") and body == ANSWER
    assert chunking_bus.received[-1].path == "/pnc?x=1"


@pytest.mark.parametrize("target", [b"*", b"/pnc%2fx", b"/pnc%5Cx", b"/pnc;x=1", b"/pnc%00"])
def test_a_request_target_the_proxy_does_not_serve_gets_a_400_fault(
    proxy: ProxyProcess, chunking_bus: WireBus, target: bytes
) -> None:
    before = len(chunking_bus.received)
    raw = raw_exchange(proxy.port, b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (target, len(REQUEST), REQUEST))
    status, _, body = headers_of(raw)
    assert status.startswith(b"HTTP/1.1 400"), raw[:200]
    assert b"<t:kind>request.target</t:kind>" in body
    assert len(chunking_bus.received) == before
    assert " ERROR " not in proxy.log
