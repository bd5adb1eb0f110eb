"""Tracing and correlation (issue 13), black-box through a real `turnout proxy` process.

Around the proxy, all real HTTP servers on loopback: a `ScriptedBus` stands in for the legacy
bus and another for the modern JSON service (both only record the headers they receive, which
the demo's bus and services do not expose), and an OTLP/HTTP receiver accepts POST /v1/traces
and decodes each body with opentelemetry-proto's `ExportTraceServiceRequest`, as a collector
would. The proxy is started as `turnout --log-format json proxy`, with OpenTelemetry's own
`OTEL_BSP_SCHEDULE_DELAY` at 100 ms so its spans arrive while the test waits for them.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.support import proxy_process
from tests.support.bus import Received, Reply, ScriptedBus
from tests.support.proxy_process import ProxyProcess
from turnout.recording import RecordingStore

SOAP11 = {"Content-Type": "text/xml; charset=utf-8"}
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])")

TRANSLATORS = '''
from turnout.translators import JsonCall, SoapReply, TranslationError

ENVELOPE = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    '<p:VehicleEnquiryResponse xmlns:p="urn:police:pnc:v1"><p:colourCode>{colour}</p:colourCode>'
    "</p:VehicleEnquiryResponse></soap:Body></soap:Envelope>"
)


class Vehicle:
    name = "pnc/VehicleEnquiry"
    operation = "/pnc VehicleEnquiry"
    service = "pnc"
    writes = False

    def to_call(self, request, *, dry_run=False):
        return JsonCall("pnc", "GET", "/vehicles/TB19XKF")

    def to_reply(self, reply, request):
        if reply.status != 200 or not isinstance(reply.body, dict):
            raise TranslationError(f"unusable reply: {reply.status}")
        return SoapReply(200, "text/xml; charset=utf-8", ENVELOPE.format(colour=reply.body["colour"]).encode())


class VehicleCheck(Vehicle):
    name = "pnc/VehicleCheck"
    operation = "/pnc VehicleCheck"


TRANSLATORS = [Vehicle(), VehicleCheck()]
'''


def envelope(operation: str, inner: str = "") -> bytes:
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<p:{operation} xmlns:p="urn:police:pnc:v1">{inner}</p:{operation}></soap:Body></soap:Envelope>'
    ).encode()


PERSON = envelope("PersonEnquiry", "<p:surname>WHITTAKER</p:surname>")
VEHICLE = envelope("VehicleEnquiry", "<p:registrationMark>TB19 XKF</p:registrationMark>")
CHECK = envelope("VehicleCheck", "<p:registrationMark>TB19 XKF</p:registrationMark>")
THREAT = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]>'
          b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
          b'<p:PersonEnquiry xmlns:p="urn:police:pnc:v1">&e;</p:PersonEnquiry></soap:Body></soap:Envelope>')


class OtlpReceiver:
    """A real OTLP/HTTP trace receiver on loopback: keeps every span it is sent, with its
    resource's attributes."""

    def __init__(self) -> None:
        self.spans: list[tuple[dict[str, Any], Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                status = 404
                if self.path == "/v1/traces":
                    status = 200
                    request = ExportTraceServiceRequest.FromString(body)
                    with receiver.lock:
                        for resource_spans in request.resource_spans:
                            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                            for scope_spans in resource_spans.scope_spans:
                                receiver.spans.extend((resource, span) for span in scope_spans.spans)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        self._thread = threading.Thread(target=lambda: self.server.serve_forever(poll_interval=0.05), daemon=True)

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def trace(self, trace_id: str, count: int, timeout: float = 15.0) -> list[Any]:
        """The spans of `trace_id` once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = [span for _, span in self.spans if span.trace_id.hex() == trace_id]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


@dataclass
class Rig:
    proxy: ProxyProcess
    bus: ScriptedBus
    service: ScriptedBus
    otlp: OtlpReceiver
    root: Path

    def reset(self) -> None:
        self.bus.received.clear()
        self.service.received.clear()


@pytest.fixture(scope="module")
def rig(proxy_engine: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    root = tmp_path_factory.mktemp(f"tracing-{proxy_engine}")
    (root / "translators").mkdir()
    (root / "translators" / "vehicle.py").write_text(TRANSLATORS)
    with ScriptedBus() as bus, ScriptedBus() as service, OtlpReceiver() as otlp, \
            pytest.MonkeyPatch.context() as patch:
        service.reply = Reply(200, [("Content-Type", "application/json")], b'{"colour": "RED"}')
        (root / "turnout.yaml").write_text("\n".join([
            f"upstream: {bus.url}",
            "translators: translators",
            f"services: {{pnc: {service.url}}}",
            "routes:",
            "  /pnc VehicleEnquiry: {mode: translator, on_error: fault}",
            "  /pnc VehicleCheck: {mode: shadow}",
            "recordings:",
            "  dir: recordings",
            "  redaction:",
            "    namespaces: {p: 'urn:police:pnc:v1'}",
            "    body: ['//p:surname | //p:registrationMark']",
            "tracing:",
            f"  otlp_endpoint: {otlp.url}",
            "  service_name: turnout-under-test",
        ]) + "\n")
        patch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
        patch.setattr(proxy_process, "TURNOUT", [*proxy_process.TURNOUT, "--log-format", "json"])
        with ProxyProcess(root / "turnout.yaml") as proxy:
            yield Rig(proxy, bus, service, otlp, root)


def header(received: Received, name: str) -> list[str]:
    return [value for key, value in received.headers if key.lower() == name.lower()]


def ids_at(received: Received) -> tuple[str, str, str, str]:
    """(request id, trace id, parent span id, flags) a bus or service request carried."""
    (request_id,) = header(received, "X-Request-Id")
    (parent,) = header(received, "traceparent")
    found = TRACEPARENT.fullmatch(parent)
    assert found is not None, parent
    trace_id, span_id, flags = found.groups()
    return request_id, trace_id, span_id, flags


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_client_ids_reach_bus_and_service_under_the_proxys_span(rig: Rig) -> None:
    rig.reset()
    given = {**SOAP11, "X-Request-Id": "terminal-7-0042", "traceparent": f"00-{TRACE}-{CLIENT_SPAN}-01",
             "tracestate": "vendor=abc"}
    status, _, _ = rig.proxy.request("POST", "/pnc", PERSON, given)
    assert status == 200
    (at_bus,) = rig.bus.received
    request_id, trace_id, bus_parent, flags = ids_at(at_bus)
    assert (request_id, trace_id, flags) == ("terminal-7-0042", TRACE, "01")
    assert bus_parent not in (CLIENT_SPAN, "0" * 16)  # the proxy's span, not the client's
    assert header(at_bus, "tracestate") == ["vendor=abc"]

    status, _, body = rig.proxy.request("POST", "/pnc", VEHICLE, {**given, "X-Request-Id": "terminal-7-0043"})
    assert status == 200 and b"RED" in body
    (at_service,) = rig.service.received
    request_id, trace_id, service_parent, flags = ids_at(at_service)
    assert (request_id, trace_id, flags) == ("terminal-7-0043", TRACE, "01")
    assert service_parent not in (CLIENT_SPAN, bus_parent)  # this request's own proxy span
    assert header(at_service, "tracestate") == ["vendor=abc"]
    assert len(rig.bus.received) == 1  # the translator answered: the bus was not called


def test_without_ids_new_valid_ones_are_made(rig: Rig) -> None:
    rig.reset()
    for _ in range(2):
        assert rig.proxy.request("POST", "/pnc", PERSON, SOAP11)[0] == 200
    first, second = (ids_at(received) for received in rig.bus.received)
    for request_id, trace_id, span_id, flags in (first, second):
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", request_id)
        assert trace_id != "0" * 32 and span_id != "0" * 16
        assert flags == "01"  # a new trace, sampled at the default ratio of 1.0
    assert first[0] != second[0] and first[1] != second[1]


@pytest.mark.parametrize("invalid", [
    f"00-{TRACE.upper()}-{CLIENT_SPAN}-01",      # upper-case hex
    f"00-{'0' * 32}-{CLIENT_SPAN}-01",           # all-zero trace id
    f"00-{TRACE}-{'0' * 16}-01",                 # all-zero parent id
    f"ff-{TRACE}-{CLIENT_SPAN}-01",              # version ff is invalid
    f"00-{TRACE}-{CLIENT_SPAN}-01-extra",        # version 00 has nothing after the flags
    f"00-{TRACE[:-1]}-{CLIENT_SPAN}-01",         # a short trace id
    "not a traceparent",
])
def test_an_invalid_traceparent_is_replaced_never_passed_on(rig: Rig, invalid: str) -> None:
    rig.reset()
    assert rig.proxy.request("POST", "/pnc", PERSON, {**SOAP11, "traceparent": invalid})[0] == 200
    (at_bus,) = rig.bus.received
    _, trace_id, span_id, _ = ids_at(at_bus)
    assert trace_id not in (TRACE, "0" * 32) and span_id != CLIENT_SPAN
    assert all(invalid not in value for _, value in at_bus.headers)


def test_a_later_version_is_read_for_its_version_00_fields(rig: Rig) -> None:
    rig.reset()
    later = f"01-{TRACE}-{CLIENT_SPAN}-01-what-a-later-version-adds"
    assert rig.proxy.request("POST", "/pnc", PERSON, {**SOAP11, "traceparent": later})[0] == 200
    _, trace_id, span_id, flags = ids_at(rig.bus.received[0])
    assert (trace_id, flags) == (TRACE, "01") and span_id != CLIENT_SPAN
    assert header(rig.bus.received[0], "traceparent")[0].startswith("00-")  # we speak version 00


def test_a_request_id_that_is_not_a_plain_token_is_replaced(rig: Rig) -> None:
    rig.reset()
    sent = "two words; and a <tag>"
    assert rig.proxy.request("POST", "/pnc", PERSON, {**SOAP11, "X-Request-Id": sent})[0] == 200
    (at_bus,) = rig.bus.received
    (request_id,) = header(at_bus, "X-Request-Id")
    assert request_id != sent and re.fullmatch(r"[0-9a-f-]{36}", request_id)


def test_the_shadows_service_call_carries_the_request_id_and_trace(rig: Rig) -> None:
    rig.reset()
    given = {**SOAP11, "X-Request-Id": "shadowed-0001", "traceparent": f"00-{TRACE}-{CLIENT_SPAN}-01"}
    assert rig.proxy.request("POST", "/pnc", CHECK, given)[0] == 200
    wait_for(lambda: len(rig.service.received) == 1)  # off the client's path
    _, _, bus_parent, _ = ids_at(rig.bus.received[0])
    request_id, trace_id, shadow_parent, flags = ids_at(rig.service.received[0])
    assert (request_id, trace_id, flags) == ("shadowed-0001", TRACE, "01")
    assert shadow_parent not in (bus_parent, CLIENT_SPAN)  # the shadow's own span


def test_the_recording_has_the_request_id_and_trace_id(rig: Rig) -> None:
    rig.reset()
    given = {**SOAP11, "X-Request-Id": "recorded-0001", "traceparent": f"00-{TRACE}-{CLIENT_SPAN}-01"}
    assert rig.proxy.request("POST", "/pnc", PERSON, given)[0] == 200
    store = RecordingStore(rig.root / "recordings")

    def recorded() -> list[Any]:
        return [e for e in store.iter_exchanges() if e.request_id == "recorded-0001"]

    wait_for(lambda: len(recorded()) == 1)
    (exchange,) = recorded()
    assert exchange.trace_id == TRACE
    text = next(path for path in (rig.root / "recordings").rglob("*.yaml")
                if "recorded-0001" in path.read_text()).read_text()
    assert "request_id: recorded-0001" in text and f"trace_id: {TRACE}" in text
    assert "WHITTAKER" not in text  # redacted all the same


def test_json_log_lines_carry_the_request_id(rig: Rig) -> None:
    rig.reset()
    given = {**SOAP11, "X-Request-Id": "refused-0001", "traceparent": f"00-{TRACE}-{CLIENT_SPAN}-01"}
    status, _, _ = rig.proxy.request("POST", "/pnc", THREAT, given)
    assert status >= 400 and not rig.bus.received

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in rig.proxy.log.splitlines() if line.startswith("{")]

    wait_for(lambda: any(line.get("request_id") == "refused-0001" for line in lines()))
    (refused,) = [line for line in lines() if line.get("request_id") == "refused-0001"]
    assert refused["trace_id"] == TRACE and refused["level"] == "WARNING"
    assert refused["logger"] == "turnout.proxy" and "rejected" in refused["message"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", refused["time"])
    # no text-format log line slipped past the JSON formatter
    assert not re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (WARNING|ERROR|INFO)", rig.proxy.log, re.M)


def attributes(span: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attribute in span.attributes:
        value = attribute.value
        out[attribute.key] = value.string_value if value.HasField("string_value") else value.int_value
    return out


def test_spans_arrive_over_otlp_with_the_ids_that_went_on_the_wire(rig: Rig) -> None:
    rig.reset()
    trace = "0af7651916cd43dd8448eb211c80319c"
    given = {**SOAP11, "X-Request-Id": "spanned-0001", "traceparent": f"00-{trace}-{CLIENT_SPAN}-01"}
    assert rig.proxy.request("POST", "/pnc", VEHICLE, given)[0] == 200
    assert rig.proxy.request("POST", "/pnc", PERSON, {**given, "X-Request-Id": "spanned-0002"})[0] == 200
    _, _, service_parent, _ = ids_at(rig.service.received[0])
    _, _, bus_parent, _ = ids_at(rig.bus.received[0])

    spans = {span.span_id.hex(): span for span in rig.otlp.trace(trace, 4)}
    translated, forwarded = spans[service_parent], spans[bus_parent]
    assert translated.name == "/pnc VehicleEnquiry" and forwarded.name == "/pnc PersonEnquiry"
    for span in (translated, forwarded):
        assert span.parent_span_id.hex() == CLIENT_SPAN
        assert span.kind == span.SPAN_KIND_SERVER
        assert span.end_time_unix_nano >= span.start_time_unix_nano > 0
    assert attributes(translated) == {
        "turnout.route": "translator", "turnout.outcome": "translated", "turnout.request_id": "spanned-0001",
        "http.request.method": "POST", "http.response.status_code": 200,
    }
    assert attributes(forwarded)["turnout.outcome"] == "forwarded"
    assert attributes(forwarded)["turnout.request_id"] == "spanned-0002"
    (call,) = [s for s in spans.values() if s.parent_span_id.hex() == service_parent]
    assert call.name == "pnc GET" and call.kind == call.SPAN_KIND_CLIENT
    assert attributes(call)["turnout.service"] == "pnc" and attributes(call)["http.response.status_code"] == 200
    (bus,) = [s for s in spans.values() if s.parent_span_id.hex() == bus_parent]
    assert bus.name == "legacy bus" and bus.kind == bus.SPAN_KIND_CLIENT
    assert translated.start_time_unix_nano <= call.start_time_unix_nano <= call.end_time_unix_nano
    # no attribute carries the request's content (the service's path names a vehicle)
    assert not any("TB19" in str(attributes(s)) for s in spans.values())
    resources = {resource.get("service.name") for resource, span in rig.otlp.spans if span.trace_id.hex() == trace}
    assert resources == {"turnout-under-test"}


def test_a_shadow_run_is_a_span_under_the_requests(rig: Rig) -> None:
    rig.reset()
    trace = "5b8efff798038103d269b633813fc60c"
    given = {**SOAP11, "X-Request-Id": "shadow-span-0001", "traceparent": f"00-{trace}-{CLIENT_SPAN}-01"}
    assert rig.proxy.request("POST", "/pnc", CHECK, given)[0] == 200
    wait_for(lambda: len(rig.service.received) == 1)
    _, _, bus_parent, _ = ids_at(rig.bus.received[0])
    _, _, shadow_parent, _ = ids_at(rig.service.received[0])
    spans = {span.span_id.hex(): span for span in rig.otlp.trace(trace, 4)}
    shadow = spans[shadow_parent]
    assert shadow.name == "shadow /pnc VehicleCheck" and shadow.parent_span_id.hex() == bus_parent
    assert spans[bus_parent].name == "/pnc VehicleCheck"
    assert [s.name for s in spans.values() if s.parent_span_id.hex() == shadow_parent] == ["pnc GET"]


def test_an_unsampled_trace_is_passed_on_but_not_exported(rig: Rig) -> None:
    rig.reset()
    trace = "11111111111111111111111111111111"
    given = {**SOAP11, "traceparent": f"00-{trace}-{CLIENT_SPAN}-00"}
    assert rig.proxy.request("POST", "/pnc", PERSON, given)[0] == 200
    _, trace_id, _, flags = ids_at(rig.bus.received[0])
    assert (trace_id, flags) == (trace, "00")
    # a sampled request after it arrives; the unsampled one never does
    sampled = "22222222222222222222222222222222"
    sampled_headers = {**SOAP11, "traceparent": f"00-{sampled}-{CLIENT_SPAN}-01"}
    assert rig.proxy.request("POST", "/pnc", PERSON, sampled_headers)[0] == 200
    assert rig.otlp.trace(sampled, 2)
    assert rig.otlp.trace(trace, 1, timeout=0) == []
