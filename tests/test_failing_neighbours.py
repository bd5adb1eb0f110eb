"""When the bus or a modern service fails, in every way a neighbour on the network can.

Real parts throughout: mitmproxy on loopback, `FaultServer` (tests/support/faults.py) as the
legacy bus and as the JSON service, raw HTTP clients. Each test names the failure and asserts
what the client gets (a Fault of the exact kind, or the bus's answer), that it arrives within
the configured timeout plus a margin (a behavioural bound, not a speed test), what reached the
bus and the service (a write is tried once and never reaches the bus), and what was recorded.
"""

from __future__ import annotations

import http.client
import logging
import statistics
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from lxml import etree

from turnout.config import ProxyConfig
from turnout.proxy import ProxyThread
from turnout.recording import RecordingStore
from turnout.soap import SOAP12, parse_xml

from .support.faults import JSON, Fault, FaultServer
from .test_proxy_passthrough import ENVELOPE, SOAP_HEADERS, fault_of
from .test_proxy_routes import BUS_ANSWER, CREATE, CREATE_HEADERS, PERSON, PERSON_HEADERS, write_config

#: what a reply may take beyond its configured timeout: thread hand-offs on a busy 2-core runner
MARGIN = 1.5
UPSTREAM_TIMEOUT = 1.0
CONNECT_TIMEOUT = 0.5
ROUTE_TIMEOUT = 0.5
VEHICLE_JSON = b'{"colour": "blue"}'


@pytest.fixture
def bus() -> Iterator[FaultServer]:
    with FaultServer(Fault.ok(BUS_ANSWER)) as server:
        yield server


@pytest.fixture
def service() -> Iterator[FaultServer]:
    with FaultServer(Fault.ok(VEHICLE_JSON, JSON)) as server:
        yield server


def post(proxy: ProxyThread, body: bytes = ENVELOPE, headers: dict[str, str] | None = None,
         path: str | None = None) -> tuple[int, bytes, float]:
    """(status, body, seconds) of one POST through the proxy."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=30)
    conn.request("POST", path or ("/cris" if b"CrimeReport" in body else "/pnc"), body=body,
                 headers=headers or SOAP_HEADERS)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data, time.monotonic() - started


def recorded(tmp_path: Path) -> list:
    return list(RecordingStore(tmp_path / "rec").iter_exchanges())


# --- legacy route: the bus fails -----------------------------------------------------------

BUS_FAULTS = [
    # (fault, kind, requests the bus reads, whether the proxy waits out the upstream timeout)
    pytest.param(Fault.refuse(), "upstream.unreachable", 0, False, id="refuse"),
    pytest.param(Fault.hang(), "upstream.timeout", 1, True, id="hang"),
    pytest.param(Fault.slow(5.0, BUS_ANSWER), "upstream.timeout", 1, True, id="slow-answer"),
    pytest.param(Fault.stall(), "upstream.timeout", 1, True, id="stall-mid-body"),
    pytest.param(Fault.reset(), "upstream.broken", 1, False, id="reset-mid-body"),
    pytest.param(Fault.reset(after=10), "upstream.broken", 1, False, id="reset-mid-headers"),
    pytest.param(Fault.reset(after=0), "upstream.broken", 1, False, id="reset-before-reply"),
    pytest.param(Fault.garbage(), "upstream.broken", 1, False, id="garbage"),
]


def legacy_proxy(bus: FaultServer, tmp_path: Path) -> ProxyThread:
    return ProxyThread(ProxyConfig(
        upstream=bus.url, listen_port=0, record_dir=tmp_path / "rec",
        upstream_timeout=UPSTREAM_TIMEOUT, connect_timeout=CONNECT_TIMEOUT,
    )).start()


@pytest.mark.parametrize(("fault", "kind", "reads", "waits"), BUS_FAULTS)
def test_failing_bus_gets_the_client_a_fault_of_its_kind_within_the_timeout(
    bus: FaultServer, tmp_path: Path, fault: Fault, kind: str, reads: int, waits: bool
) -> None:
    bus.fault = fault
    proxy = legacy_proxy(bus, tmp_path)
    try:
        status, data, seconds = post(proxy)
        failed_reads = bus.count
        bus.fault = Fault.ok(BUS_ANSWER)  # the bus recovers: the next request is served as usual
        recovered = post(proxy)[:2]
        counters = proxy.state.stats.snapshot()
    finally:
        proxy.stop()
    assert status == 500
    code, reason, got_kind = fault_of(data)
    assert (code, got_kind) == ("soap:Server", kind)
    assert "legacy bus" in reason
    assert seconds < UPSTREAM_TIMEOUT + MARGIN
    if waits:
        assert seconds >= UPSTREAM_TIMEOUT * 0.9  # it waited as long as configured, not less
    assert failed_reads == reads  # a SOAP POST is sent once, never again
    assert recovered == (200, BUS_ANSWER)
    assert counters[kind] == 1 and counters["outcome.upstream-error"] == 1
    failed, ok = recorded(tmp_path)
    assert failed.outcome == "upstream-error" and kind in failed.notes
    assert failed.response is not None and failed.response.body == data
    assert ok.outcome == "forwarded"


def test_failing_bus_answers_a_soap12_caller_with_a_soap12_fault(bus: FaultServer, tmp_path: Path) -> None:
    bus.fault = Fault.hang()
    body = ENVELOPE.replace(b"http://schemas.xmlsoap.org/soap/envelope/", SOAP12.namespace.encode())
    proxy = legacy_proxy(bus, tmp_path)
    try:
        status, data, seconds = post(proxy, body, {"Content-Type": SOAP12.content_type})
    finally:
        proxy.stop()
    root = parse_xml(data)
    assert status == 500 and etree.QName(root).namespace == SOAP12.namespace
    assert root.xpath("string(//*[local-name()='Code']/*[local-name()='Value'])").endswith("Receiver")
    assert root.xpath("string(//*[local-name()='kind'])") == "upstream.timeout"
    assert seconds < UPSTREAM_TIMEOUT + MARGIN


def test_a_bus_5xx_reaches_the_client_unchanged(bus: FaultServer, tmp_path: Path) -> None:
    """The bus's own error is the bus's answer: passed through, as every other answer is."""
    bus_fault = b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>PNC down</faultstring></soap:Fault></soap:Body></soap:Envelope>'
    bus.fault = Fault.error(503, bus_fault)
    proxy = legacy_proxy(bus, tmp_path)
    try:
        status, data, _ = post(proxy)
    finally:
        proxy.stop()
    assert (status, data) == (503, bus_fault)
    assert bus.count == 1
    [exchange] = recorded(tmp_path)
    assert exchange.outcome == "forwarded" and exchange.response.status == 503


# --- translator route: the modern service fails ----------------------------------------------

SERVICE_FAULTS = [
    # (fault, the translation's kind, calls the service reads)
    pytest.param(Fault.refuse(), "service.unreachable", 0, id="refuse"),
    pytest.param(Fault.hang(), "service.timeout", 1, id="hang"),
    pytest.param(Fault.slow(5.0, VEHICLE_JSON, JSON), "service.timeout", 1, id="slow-answer"),
    pytest.param(Fault.stall(), "service.timeout", 1, id="stall-mid-body"),
    pytest.param(Fault.reset(), "service.broken", 1, id="reset-mid-body"),
    pytest.param(Fault.reset(after=0), "service.broken", 1, id="reset-before-reply"),
    pytest.param(Fault.garbage(), "service.broken", 1, id="garbage"),
    pytest.param(Fault.error(503, b'{"detail": "down"}', JSON), "service.error", 1, id="5xx"),
]


@pytest.mark.parametrize(("fault", "kind", "calls"), SERVICE_FAULTS)
def test_failing_service_on_a_read_falls_back_to_the_bus(
    bus: FaultServer, service: FaultServer, tmp_path: Path, fault: Fault, kind: str, calls: int
) -> None:
    service.fault = fault
    routes = f"  /pnc VehicleEnquiry: {{mode: translator, on_error: legacy, timeout: {ROUTE_TIMEOUT}}}\n"
    proxy = ProxyThread(_load(write_config(tmp_path, bus, service, routes))).start()
    try:
        status, data, seconds = post(proxy)
        counters = proxy.state.stats.snapshot()
    finally:
        proxy.stop()
    assert (status, data) == (200, BUS_ANSWER)
    assert seconds < ROUTE_TIMEOUT + MARGIN
    assert service.count == calls and bus.count == 1
    assert counters[f"translator.{kind}"] == 1 and counters["outcome.fallback"] == 1
    [exchange] = recorded(tmp_path)
    assert exchange.route == "translator" and exchange.outcome == "fallback"
    assert f"fallback:{kind}" in exchange.notes
    assert exchange.translation["kind"] == kind
    assert exchange.response.body == BUS_ANSWER


@pytest.mark.parametrize(("fault", "kind", "calls"), SERVICE_FAULTS)
def test_failing_service_on_a_read_with_on_error_fault_answers_a_fault(
    bus: FaultServer, service: FaultServer, tmp_path: Path, fault: Fault, kind: str, calls: int
) -> None:
    service.fault = fault
    routes = f"  /pnc VehicleEnquiry: {{mode: translator, on_error: fault, timeout: {ROUTE_TIMEOUT}}}\n"
    proxy = ProxyThread(_load(write_config(tmp_path, bus, service, routes))).start()
    try:
        status, data, seconds = post(proxy)
    finally:
        proxy.stop()
    assert status == 500
    code, reason, got_kind = fault_of(data)
    assert (code, got_kind) == ("soap:Server", f"translator.{kind}")
    assert "pnc/VehicleEnquiry translator failed" in reason
    assert seconds < ROUTE_TIMEOUT + MARGIN
    assert service.count == calls and bus.count == 0
    [exchange] = recorded(tmp_path)
    assert exchange.outcome == "translator-fault" and exchange.translation["kind"] == kind


@pytest.mark.parametrize(("fault", "kind", "calls"), SERVICE_FAULTS)
def test_failing_service_on_a_write_answers_a_fault_tried_once_and_never_the_bus(
    bus: FaultServer, service: FaultServer, tmp_path: Path, fault: Fault, kind: str, calls: int
) -> None:
    service.fault = fault
    routes = f"  /cris CreateCrimeReport: {{mode: translator, writes: true, timeout: {ROUTE_TIMEOUT}}}\n"
    proxy = ProxyThread(_load(write_config(tmp_path, bus, service, routes))).start()
    try:
        status, data, seconds = post(proxy, CREATE, CREATE_HEADERS)
        time.sleep(0.3)  # room for a retry, were there one
    finally:
        proxy.stop()
    assert status == 500 and fault_of(data)[2] == f"translator.{kind}"
    assert seconds < ROUTE_TIMEOUT + MARGIN
    assert service.count == calls  # one attempt (none when refused), never a second
    assert [r.method for r in service.received] == ["POST"] * calls
    assert bus.count == 0  # whatever the service did or did not do, the bus never sees the write
    [exchange] = recorded(tmp_path)
    assert exchange.outcome == "translator-fault" and exchange.translation["kind"] == kind


UPDATE_TRANSLATORS = '''
from turnout.translators import JsonCall, SoapReply, TranslationError


class UpdateCrime:
    name = "cris/UpdateCrimeReport"
    operation = "/cris UpdateCrimeReport"
    service = "pnc"
    writes = True
    method = "PUT"

    def to_call(self, request, *, dry_run=False):
        body = None if self.method == "DELETE" else {"offence": "y"}
        return JsonCall("pnc", self.method, "/crimes/CR1", body=body)

    def to_reply(self, reply, request):
        if reply.status not in (200, 204):
            raise TranslationError(f"unusable reply: {reply.status}")
        return SoapReply(200, "text/xml; charset=utf-8", b"<done/>")


class DeleteCrime(UpdateCrime):
    name = "cris/DeleteCrimeReport"
    operation = "/cris DeleteCrimeReport"
    method = "DELETE"


TRANSLATORS = [UpdateCrime(), DeleteCrime()]
'''


@pytest.mark.parametrize(("operation", "method"), [("UpdateCrimeReport", "PUT"), ("DeleteCrimeReport", "DELETE")])
@pytest.mark.parametrize("fault", [Fault.reset(after=0), Fault.reset(after=10)], ids=["before-reply", "mid-headers"])
def test_a_put_or_delete_write_is_not_resent_when_the_connection_breaks(
    bus: FaultServer, service: FaultServer, tmp_path: Path, operation: str, method: str, fault: Fault
) -> None:
    """aiohttp resends idempotent methods once when the connection breaks before the reply's
    headers; for a write (PUT, DELETE) the service may have acted on the first one."""
    service.fault = fault
    routes = f"  /cris {operation}: {{mode: translator, writes: true, timeout: {ROUTE_TIMEOUT}}}\n"
    config = write_config(tmp_path, bus, service, routes)
    (tmp_path / "translators" / "update_translators.py").write_text(UPDATE_TRANSLATORS)
    body = CREATE.replace(b"CreateCrimeReport", operation.encode())
    headers = {**SOAP_HEADERS, "SOAPAction": f'"urn:police:cris:v1#{operation}"'}
    proxy = ProxyThread(_load(config)).start()
    try:
        status, data, _ = post(proxy, body, headers)
        time.sleep(0.3)
    finally:
        proxy.stop()
    assert status == 500 and fault_of(data)[2] == "translator.service.broken"
    assert [r.method for r in service.received] == [method]  # once, never twice
    assert bus.count == 0


def test_a_large_service_reply_in_several_segments_is_read_whole(
    bus: FaultServer, service: FaultServer, tmp_path: Path
) -> None:
    """A reply is read to its end, not to the end of what the first read returned."""
    service.fault = Fault.ok(b'{"colour": "blue", "history": "' + b"x" * 300_000 + b'"}', JSON)
    routes = "  /pnc VehicleEnquiry: {mode: translator, on_error: fault}\n"
    proxy = ProxyThread(_load(write_config(tmp_path, bus, service, routes))).start()
    try:
        results = [post(proxy) for _ in range(5)]
    finally:
        proxy.stop()
    assert all(status == 200 and b"<p:colourCode>blue</p:colourCode>" in data for status, data, _ in results)
    assert bus.count == 0


# --- shadow route: the translator fails or hangs ---------------------------------------------

SHADOW_FAULTS = [
    # (service fault, operation, the shadow's kind)
    pytest.param(Fault.hang(), "VehicleEnquiry", "service.timeout", id="service-hangs"),
    pytest.param(Fault.refuse(), "VehicleEnquiry", "service.unreachable", id="service-refuses"),
    pytest.param(Fault.reset(), "VehicleEnquiry", "service.broken", id="service-resets"),
    pytest.param(Fault.garbage(), "VehicleEnquiry", "service.broken", id="service-garbage"),
    pytest.param(Fault.error(500, b"{}", JSON), "VehicleEnquiry", "service.error", id="service-5xx"),
    pytest.param(Fault.ok(VEHICLE_JSON, JSON), "PersonEnquiry", "translator-crash", id="translator-crashes"),
]


@pytest.mark.parametrize(("fault", "operation", "kind"), SHADOW_FAULTS)
def test_failing_shadow_leaves_every_client_answer_to_the_bus(
    bus: FaultServer, service: FaultServer, tmp_path: Path, fault: Fault, operation: str, kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    service.fault = fault
    extra = "shadow: {concurrency: 2, queue: 3}\n"
    routes = f"  /pnc {operation}: {{mode: shadow, timeout: {ROUTE_TIMEOUT}}}\n"
    body, headers = (ENVELOPE, SOAP_HEADERS) if operation == "VehicleEnquiry" else (PERSON, PERSON_HEADERS)
    proxy = ProxyThread(_load(write_config(tmp_path, bus, service, routes, extra))).start()
    try:
        results = [post(proxy, body, headers) for _ in range(12)]
    finally:
        proxy.stop()  # drains the shadow queue (each job bounded by the route timeout)
    counters = proxy.state.stats.snapshot()
    assert [(status, data) for status, data, _ in results] == [(200, BUS_ANSWER)] * 12
    assert max(seconds for _, _, seconds in results) < ROUTE_TIMEOUT  # never waits on the shadow
    assert bus.count == 12
    failed, dropped = counters.get("shadow.failed", 0), counters.get("shadow.dropped", 0)
    assert failed >= 1 and failed + dropped == 12
    exchanges = recorded(tmp_path)
    assert len(exchanges) == 12  # every exchange recorded, shadowed or not
    assert all(e.outcome == "forwarded" and e.response.body == BUS_ANSWER for e in exchanges)
    shadowed = [e for e in exchanges if f"shadow:{kind}" in e.notes]
    assert len(shadowed) == failed
    assert all(e.translation["kind"] == kind for e in shadowed)
    assert sum("shadow-dropped" in e.notes for e in exchanges) == dropped
    # said, not shouted once per request: a traceback per crash or a line per drop costs the
    # proxy's event loop (the clients' path) more than the shadow work itself
    lines = [r for r in caplog.records if r.name == "turnout.proxy" and r.levelno >= logging.WARNING]
    assert len(lines) <= 4, [r.getMessage() for r in lines]


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def _burst(proxy: ProxyThread, clients: int, each: int, sample=None) -> list[tuple[int, bytes, float]]:
    results: list[tuple[int, bytes, float]] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(each):
            outcome = post(proxy)
            with lock:
                results.append(outcome)

    workers = [threading.Thread(target=client) for _ in range(clients)]
    for worker in workers:
        worker.start()
    while any(worker.is_alive() for worker in workers):
        if sample is not None:
            sample()
        time.sleep(0.01)
    for worker in workers:
        worker.join()
    return results


def test_a_hanging_shadow_keeps_legacy_latency_and_bounded_work(
    bus: FaultServer, service: FaultServer, tmp_path: Path
) -> None:
    """Same burst with the route on legacy, then on shadow with a hanging service."""
    concurrency, queue = 2, 4
    extra = f"shadow: {{concurrency: {concurrency}, queue: {queue}}}\n"
    path = write_config(tmp_path, bus, service, "  /pnc VehicleEnquiry: {mode: legacy}\n", extra)
    proxy = ProxyThread(_load(path)).start()
    try:
        _burst(proxy, 4, 5)  # warm-up
        legacy = _burst(proxy, 4, 25)
    finally:
        proxy.stop()

    service.fault = Fault.hang()
    path.write_text(path.read_text().replace("{mode: legacy}", "{mode: shadow, timeout: 1}"))
    proxy = ProxyThread(_load(path)).start()
    pending: list[int] = []
    service_connections: list[int] = []

    def sample() -> None:
        assert proxy.state.shadow is not None
        pending.append(proxy.state.shadow.pending)
        service_connections.append(service.open_connections)

    try:
        _burst(proxy, 4, 5)  # warm-up
        shadow = _burst(proxy, 4, 25, sample)
    finally:
        proxy.stop()  # drains what was queued: each job ends at the route timeout
    counters = proxy.state.stats.snapshot()
    assert all((status, data) == (200, BUS_ANSWER) for status, data, _ in legacy + shadow)
    legacy_p50, legacy_p99 = _percentiles([s for _, _, s in legacy])
    shadow_p50, shadow_p99 = _percentiles([s for _, _, s in shadow])
    # the hang (1 s per job) never shows in what clients wait for
    assert shadow_p99 < 0.5, (legacy_p50, legacy_p99, shadow_p50, shadow_p99)
    assert shadow_p50 < 3 * legacy_p50 + 0.02, (legacy_p50, shadow_p50)
    # work in hand is bounded: queued + running never above the configured room, nor the
    # connections held open to the hanging service above the workers
    assert max(pending) <= concurrency + queue
    assert max(service_connections) <= concurrency
    assert counters["shadow.dropped"] >= 1
    assert counters["shadow.dropped"] + counters.get("shadow.failed", 0) == 120


def _load(path: Path) -> ProxyConfig:
    from turnout.config import load_proxy_config

    return load_proxy_config(path)


def test_shadow_jobs_cut_off_at_shutdown_are_still_recorded(tmp_path: Path) -> None:
    """A hanging shadow outlasts the shutdown drain: the jobs it cut off, running or queued,
    are the clients' exchanges all the same, and are recorded without their shadow."""
    import asyncio

    from turnout.gateway import ProxyState, ServiceClients, ShadowRunner
    from turnout.transport import H1Transport
    from turnout.recording import ThreadWriter
    from turnout.routing import Route

    from .support.translators_for_tests import Vehicle
    from .test_recording import make_exchange

    state = ProxyState(ProxyConfig(upstream="http://127.0.0.1:9"))
    state.translators = {"pnc/VehicleEnquiry": Vehicle()}
    state.writer = ThreadWriter(RecordingStore(tmp_path / "rec"))
    route = Route("/pnc VehicleEnquiry", mode="shadow", timeout=5.0)

    async def submit_then_stop(service_url: str) -> int:
        transport = H1Transport()
        state.services = ServiceClients({"pnc": service_url}, transport)
        async def equal(legacy: bytes, new: bytes, key: str) -> tuple[bool, list]:
            return True, []

        runner = ShadowRunner(state, equal, concurrency=2, queue=5)
        runner.start()
        accepted = sum(runner.submit(make_exchange(), ENVELOPE, "/pnc", route) for _ in range(10))
        await asyncio.sleep(0.3)  # two jobs now wait on the hanging service, three are queued
        await runner.drain(timeout=0.3)  # shorter than the route's timeout: the drain gives up
        await transport.close()
        return accepted

    with FaultServer(Fault.hang()) as service:
        accepted = asyncio.run(submit_then_stop(service.url))
    assert state.writer.close(5)
    counters = state.stats.snapshot()
    assert (accepted, counters["shadow.dropped"], counters["shadow.unfinished"]) == (5, 5, 5)
    exchanges = recorded(tmp_path)
    assert len(exchanges) == 5 and all("shadow-unfinished" in e.notes for e in exchanges)
