"""The gateway core without any host or server: plain requests in, answers out, the bus and the
services played by the in-memory transport. What the black-box suites show through a real proxy
process, these show step by step, and fast."""

from __future__ import annotations

import asyncio
import json
from types import MappingProxyType
from typing import Any

import pytest

from turnout.config import ProxyConfig
from turnout.gateway import Gateway, Mode, Outcome, Peer, ProxyState, start
from turnout.routing import Route, RouteTable, Served
from turnout.soap import HttpRequest, HttpResponse
from turnout.transport import MemoryTransport, Outbound, TransportError

from .support.translators_for_tests import CreateCrime, Vehicle

BUS = "http://bus.invalid"
PNC = "http://pnc.invalid"

VEHICLE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"><p:vrm>TB19XKF</p:vrm></p:VehicleEnquiry>'
    b"</soap:Body></soap:Envelope>"
)
CREATE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<c:CreateCrimeReport xmlns:c="urn:police:cris:v1"><c:offence>theft</c:offence></c:CreateCrimeReport>'
    b"</soap:Body></soap:Envelope>"
)
HEADERS = [("Content-Type", "text/xml; charset=utf-8")]
BUS_ANSWER = HttpResponse(200, [("Content-Type", "text/xml"), ("Transfer-Encoding", "chunked")], b"<bus/>")


class Peers:
    """The bus and the pnc service, answering from memory; what each received is kept."""

    def __init__(self, bus: Any = BUS_ANSWER, pnc: Any = None) -> None:
        self.bus, self.pnc = bus, pnc
        self.transport = MemoryTransport(self.answer)

    def answer(self, request: Outbound) -> HttpResponse:
        reply = self.bus if request.url.startswith(BUS) else self.pnc
        if isinstance(reply, Exception):
            raise reply
        return reply

    def to(self, base: str) -> list[Outbound]:
        return [sent for sent in self.transport.sent if sent.url.startswith(base)]


def gateway_with(routes: list[Route], peers: Peers, **config: Any) -> Gateway:
    state = ProxyState(ProxyConfig(upstream=BUS, services={"pnc": PNC}, **config))
    translators = {t.name: t for t in (Vehicle(), CreateCrime())}
    state.routes.install(Served(RouteTable(routes), MappingProxyType(translators)))
    gateway = Gateway(state)
    asyncio.run(start(gateway, peers.transport))
    return gateway


def handle(gateway: Gateway, path: str, body: bytes, method: str = "POST"):  # type: ignore[no-untyped-def]
    request = HttpRequest(method, path, list(HEADERS), body)
    return asyncio.run(gateway.handle(request, Peer("127.0.0.1", 50000)))


def fault_kind(response: HttpResponse) -> str:
    from turnout.soap import XmlLimits, parse_xml

    tree = parse_xml(response.body, XmlLimits())
    return tree.xpath("string(//*[local-name()='kind'])")


def test_a_legacy_operation_is_answered_by_the_bus_with_one_framing() -> None:
    peers = Peers()
    gateway = gateway_with([], peers)
    handled = handle(gateway, "/pnc", VEHICLE)
    assert handled.note.outcome is Outcome.FORWARDED and handled.note.route is Mode.LEGACY
    assert handled.response.body == b"<bus/>"
    assert ("Content-Length", "6") in handled.response.headers
    assert not any(name.lower() == "transfer-encoding" for name, _ in handled.response.headers)
    assert [sent.url for sent in peers.to(BUS)] == [BUS + "/pnc"]


def test_a_translated_operation_never_reaches_the_bus() -> None:
    peers = Peers(pnc=HttpResponse(200, [("Content-Type", "application/json")], json.dumps({"colour": "RED"}).encode()))
    gateway = gateway_with([Route("/pnc VehicleEnquiry", mode="translator")], peers)
    handled = handle(gateway, "/pnc", VEHICLE)
    assert handled.note.outcome is Outcome.TRANSLATED and handled.note.route is Mode.TRANSLATOR
    assert b"<p:colourCode>RED</p:colourCode>" in handled.response.body
    assert peers.to(BUS) == [] and [s.url for s in peers.to(PNC)] == [PNC + "/vehicles/TB19XKF"]


def test_a_failed_read_falls_back_to_the_bus_and_says_so() -> None:
    peers = Peers(pnc=TransportError("connect", "unreachable: refused", sent=False))
    gateway = gateway_with([Route("/pnc VehicleEnquiry", mode="translator", on_error="legacy")], peers)
    handled = handle(gateway, "/pnc", VEHICLE)
    assert handled.note.outcome is Outcome.FALLBACK
    assert "fallback:service.unreachable" in handled.note.notes
    assert handled.response.body == b"<bus/>"


def test_a_moved_write_whose_service_may_have_acted_gets_a_fault_not_the_bus() -> None:
    peers = Peers(pnc=TransportError("timeout", "no answer", sent=True))
    gateway = gateway_with([Route("/cris CreateCrimeReport", mode="translator", writes=True,
                                  translator="cris/CreateCrimeReport")], peers)
    handled = handle(gateway, "/cris", CREATE)
    assert handled.note.outcome is Outcome.TRANSLATOR_FAULT
    assert handled.response.status == 500 and fault_kind(handled.response) == "translator.service.timeout"
    assert peers.to(BUS) == []


def test_a_moved_write_under_another_spelling_is_refused_before_any_route() -> None:
    peers = Peers()
    gateway = gateway_with([Route("/cris CreateCrimeReport", mode="translator", writes=True,
                                  translator="cris/CreateCrimeReport")], peers)
    handled = handle(gateway, "/cris", b"not xml at all")  # unreadable, on a service with a moved write
    assert handled.note.outcome is Outcome.REJECTED and peers.transport.sent == []
    assert handled.response.status in (400, 500)


def test_an_unreachable_bus_becomes_the_callers_fault() -> None:
    peers = Peers(bus=TransportError("connect", "unreachable: [Errno 111] refused", sent=False))
    gateway = gateway_with([], peers)
    handled = handle(gateway, "/pnc", VEHICLE)
    assert handled.note.outcome is Outcome.UPSTREAM_ERROR
    assert fault_kind(handled.response) == "upstream.unreachable"
    assert b"the legacy bus at http://bus.invalid is unreachable" in handled.response.body


def test_a_threat_is_answered_by_the_guard_and_sent_nowhere() -> None:
    peers = Peers()
    gateway = gateway_with([], peers)
    hostile = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + VEHICLE
    handled = handle(gateway, "/pnc", hostile)
    assert handled.note.outcome is Outcome.REJECTED and peers.transport.sent == []
    assert fault_kind(handled.response).startswith("threat.")


def test_an_answer_over_the_limit_is_handed_back_to_stream_not_held() -> None:
    peers = Peers(bus=HttpResponse(200, [("Content-Type", "text/xml")], b"x" * 5000))
    gateway = gateway_with([], peers, max_response_bytes=1000)
    handled = handle(gateway, "/pnc", VEHICLE)
    assert handled.response is None and handled.stream is not None
    assert handled.note.streamed is not None and handled.note.streamed.body == b""

    async def drain() -> bytes:
        return b"".join([chunk async for chunk in handled.stream.chunks()])

    assert asyncio.run(drain()) == b"x" * 5000


@pytest.mark.parametrize("mode", list(Mode))
def test_every_mode_is_a_route_mode_word(mode: Mode) -> None:
    """The enum and the route file's words are one vocabulary: a route written with the word
    gets the mode."""
    assert Route("/pnc X", mode=mode.value).mode == mode


def test_a_request_id_is_the_clients_plain_token_or_a_new_uuid4() -> None:
    """The client's X-Request-Id is read from the headers as received or as the gateway keys
    them (lower-case); any other request gets a random UUID 4, written as uuid writes one."""
    import uuid

    from turnout.audit import request_id_for

    for headers in ([("x-REQUEST-id", " tablet-7:0001 ")], {"x-request-id": " tablet-7:0001 "}):
        assert request_id_for(headers) == "tablet-7:0001"
    made = [request_id_for(headers) for headers in ([], {}, [("X-Request-Id", "two words")],
                                                    {"x-request-id": "a" * 129}) for _ in range(500)]
    assert len(set(made)) == len(made)
    for request_id in made:
        parsed = uuid.UUID(request_id)
        assert str(parsed) == request_id and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    # every one of the 122 random bits varies: none is stuck at 0 or at 1
    bits = [int(request_id.replace("-", ""), 16) for request_id in made]
    fixed = (0xF << 76) | (0x3 << 62)  # the version and variant bits
    assert all((any((b >> i) & 1 for b in bits) and not all((b >> i) & 1 for b in bits)) or (fixed >> i) & 1
               for i in range(128))


def test_only_end_to_end_headers_pass_in_their_order_whatever_the_connection_header_names() -> None:
    """Hop-by-hop headers, those Connection names (before or after it) and the ones a caller
    drops never pass; the drop sets a caller passes are kept apart from one another."""
    from turnout.gateway._framing import client_response
    from turnout.soap import end_to_end

    headers = [("X-Secret", "1"), ("Content-Type", "text/xml"), ("connection", "X-Secret, close"),
               ("Keep-Alive", "timeout=5"), ("X-Kept", "a"), ("Content-Length", "3"), ("x-kept", "b"),
               ("Transfer-Encoding", "chunked"), ("X-Other", "z"), ("CONNECTION", " x-other ")]
    kept = [("Content-Type", "text/xml"), ("X-Kept", "a"), ("x-kept", "b")]
    assert end_to_end(headers, frozenset({"content-length"})) == kept
    assert end_to_end(headers, {"content-length"}) == kept
    assert end_to_end(headers) == kept[:2] + [("Content-Length", "3"), ("x-kept", "b")]
    assert end_to_end(headers, frozenset({"x-kept"})) == [("Content-Type", "text/xml"), ("Content-Length", "3")]
    assert end_to_end(headers, frozenset({"content-length"})) == kept  # the other set did not stick
    answer = client_response(HttpResponse(200, headers, b"<a/>"))
    assert answer.headers == kept + [("Content-Length", "4")]


def test_the_gateways_own_answers_carry_their_status_reason() -> None:
    peers = Peers(pnc=HttpResponse(200, [("Content-Type", "application/json")], json.dumps({"colour": "RED"}).encode()))
    gateway = gateway_with([Route("/pnc VehicleEnquiry", mode="translator")], peers)
    assert handle(gateway, "/pnc", VEHICLE).response.reason == "OK"
    assert handle(gateway, "/pnc", b"<!DOCTYPE x><x/>").response.reason == "Internal Server Error"
    assert handle(gateway, "/a;b", VEHICLE).response.reason == "Bad Request"
    from turnout.gateway import answer_of
    from turnout.translators import SoapReply

    assert answer_of(SoapReply(299, "text/xml", b"<a/>")).reason == ""  # no phrase for it: none sent


def test_a_request_accepted_while_the_gateway_starts_waits_for_it_instead_of_failing() -> None:
    """mitmproxy opens its listener in an earlier addon's `running` hook than the one that starts
    the gateway, so under load a request can arrive in between. It waited for nothing and hit a
    half-started gateway: an `internal` Fault, and mitmproxy exits on an error logged at start-up
    (seen in CI as test_tls's `upstream.certificate` case answering `internal`)."""
    peers = Peers()
    state = ProxyState(ProxyConfig(upstream=BUS, services={"pnc": PNC}))
    state.routes.install(Served(RouteTable([]), MappingProxyType({})))
    gateway = Gateway(state)

    async def arrive_then_start() -> Any:
        request = HttpRequest("POST", "/pnc", list(HEADERS), VEHICLE)
        handling = asyncio.create_task(gateway.handle(request, Peer("127.0.0.1", 50000)))
        await asyncio.sleep(0.05)  # the request is in, the gateway not started yet
        assert not handling.done()
        await start(gateway, peers.transport)
        return await handling

    handled = asyncio.run(arrive_then_start())
    assert handled.note.outcome is Outcome.FORWARDED and "internal" not in handled.note.notes
    assert handled.response.body == b"<bus/>"
