"""Routes through the real proxy: translator, fallback, faults, writes, shadow, canary, live edits.

Real parts throughout: mitmproxy on loopback, a real HTTP server as the bus and another as the
JSON service (both scripted, so failures can be made on purpose), raw HTTP clients.
"""

from __future__ import annotations

import http.client
import shutil
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from turnout.config import load_proxy_config
from turnout.proxy import ProxyThread
from turnout.recording import RecordingStore

from .support.bus import Reply, ScriptedBus
from .test_proxy_passthrough import ENVELOPE, SOAP_HEADERS, fault_of

SUPPORT = Path(__file__).parent / "support" / "translators_for_tests.py"
BUS_ANSWER = b"<from-the-bus/>"
CREATE = ENVELOPE.replace(b"VehicleEnquiry", b"CreateCrimeReport")
CREATE_HEADERS = {**SOAP_HEADERS, "SOAPAction": '"urn:police:cris:v1#CreateCrimeReport"'}


@pytest.fixture
def bus() -> Iterator[ScriptedBus]:
    with ScriptedBus() as scripted:
        scripted.reply = Reply(body=BUS_ANSWER)
        yield scripted


@pytest.fixture
def service() -> Iterator[ScriptedBus]:
    with ScriptedBus() as scripted:
        scripted.reply = Reply(headers=[("Content-Type", "application/json")], body=b'{"colour": "blue"}')
        yield scripted


def write_config(tmp_path: Path, bus: ScriptedBus, service: ScriptedBus, routes: str, extra: str = "") -> Path:
    translators = tmp_path / "translators"
    translators.mkdir(exist_ok=True)
    shutil.copy(SUPPORT, translators / "test_translators.py")
    path = tmp_path / "turnout.yaml"
    path.write_text(
        f"upstream: {bus.url}\n"
        "listen: {port: 0}\n"
        "timeouts: {upstream: 3}\n"
        "translators: translators\n"
        f"services: {{pnc: {service.url}}}\n"
        "recordings: {dir: rec}\n"
        f"{extra}"
        f"routes:\n{routes}"
    )
    return path


def start(path: Path) -> ProxyThread:
    return ProxyThread(load_proxy_config(path)).start()


def post(proxy: ProxyThread, body: bytes = ENVELOPE, headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=20)
    path = "/cris" if b"CrimeReport" in body else "/pnc"
    conn.request("POST", path, body=body, headers=headers or SOAP_HEADERS)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def recorded(tmp_path: Path) -> list:
    return list(RecordingStore(tmp_path / "rec").iter_exchanges())


def test_translator_route_answers_without_the_bus(bus, service, tmp_path) -> None:
    proxy = start(write_config(tmp_path, bus, service, "  /pnc VehicleEnquiry: {mode: translator}\n"))
    try:
        status, data = post(proxy)
    finally:
        proxy.stop()
    assert status == 200 and b"<p:colourCode>blue</p:colourCode>" in data
    assert bus.received == []
    assert service.received[0].path == "/vehicles/TB19XKF"
    [exchange] = recorded(tmp_path)
    assert exchange.route == "translator" and exchange.outcome == "translated"
    assert exchange.translated is not None and exchange.translated.body == data
    assert exchange.translation["call"]["path"] == "/vehicles/TB19XKF"
    assert exchange.translation["reply"] == {"status": 200, "body": {"colour": "blue"}}


@pytest.mark.parametrize(
    ("reply", "timeout", "kind"),
    [
        (Reply(status=404, body=b"{}"), 2.0, "translation-error"),
        (Reply(status=500, body=b"{}"), 2.0, "service.error"),
        (Reply(body=b'{"colour": "blue"}', delay=3.0), 0.3, "service.timeout"),
    ],
    ids=["unusable-reply", "service-5xx", "timeout"],
)
def test_read_falls_back_to_the_bus_on_translator_error(bus, service, tmp_path, reply, timeout, kind) -> None:
    service.reply = reply
    routes = f"  /pnc VehicleEnquiry: {{mode: translator, on_error: legacy, timeout: {timeout}}}\n"
    proxy = start(write_config(tmp_path, bus, service, routes))
    try:
        status, data = post(proxy)
    finally:
        proxy.stop()
    assert (status, data) == (200, BUS_ANSWER)
    assert len(bus.received) == 1
    [exchange] = recorded(tmp_path)
    assert exchange.outcome == "fallback" and f"fallback:{kind}" in exchange.notes


PERSON = ENVELOPE.replace(b"VehicleEnquiry", b"PersonEnquiry")
PERSON_HEADERS = {**SOAP_HEADERS, "SOAPAction": '"urn:police:pnc:v1#PersonEnquiry"'}


@pytest.mark.parametrize(
    ("operation", "body", "headers"),
    [("VehicleEnquiry", ENVELOPE, SOAP_HEADERS), ("PersonEnquiry", PERSON, PERSON_HEADERS)],
    ids=["timeout", "crash"],
)
def test_on_error_fault_answers_a_fault_and_never_the_bus(bus, service, tmp_path, operation, body, headers) -> None:
    service.reply = Reply(body=b"{}", delay=3.0)
    routes = f"  /pnc {operation}: {{mode: translator, on_error: fault, timeout: 0.3}}\n"
    proxy = start(write_config(tmp_path, bus, service, routes))
    try:
        status, data = post(proxy, body, headers)
    finally:
        proxy.stop()
    assert status == 500
    code, _, kind = fault_of(data)
    assert code == "soap:Server" and kind.startswith("translator.")
    assert bus.received == []


def test_failed_write_is_never_sent_to_the_bus(bus, service, tmp_path) -> None:
    service.reply = Reply(status=503, body=b"{}")
    routes = "  /cris CreateCrimeReport: {mode: translator, writes: true}\n"
    proxy = start(write_config(tmp_path, bus, service, routes))
    try:
        status, data = post(proxy, CREATE, CREATE_HEADERS)
    finally:
        proxy.stop()
    assert status == 500 and fault_of(data)[2] == "translator.service.error"
    assert len(service.received) == 1  # tried once, never retried
    assert bus.received == []


def test_a_strategy_that_raises_cannot_let_the_request_reach_the_bus(bus, service, tmp_path, monkeypatch) -> None:
    from turnout.gateway import _strategies

    async def broken(gateway, note, route):
        raise RuntimeError("bug")

    monkeypatch.setattr(_strategies, "translator", broken)
    routes = "  /cris CreateCrimeReport: {mode: translator, writes: true}\n"
    proxy = start(write_config(tmp_path, bus, service, routes))
    try:
        status, data = post(proxy, CREATE, CREATE_HEADERS)
    finally:
        proxy.stop()
    assert status == 500 and fault_of(data)[2] == "internal"
    assert bus.received == []


def test_a_gateway_that_raises_still_cannot_reach_the_bus(bus, service, tmp_path, monkeypatch) -> None:
    """A bug that escapes the gateway itself ends in a Fault from either host, never in the host
    forwarding the request by a default of its own."""
    from turnout.gateway import Gateway

    async def escaping(self, request, peer):
        raise RuntimeError("escaped the gateway")

    monkeypatch.setattr(Gateway, "handle", escaping)
    routes = "  /cris CreateCrimeReport: {mode: translator, writes: true}\n"
    proxy = start(write_config(tmp_path, bus, service, routes))
    try:
        status, data = post(proxy, CREATE, CREATE_HEADERS)
    finally:
        proxy.stop()
    assert status == 500 and fault_of(data)[2] == "internal"
    assert bus.received == []


@pytest.mark.engine("fast", reason="the fast host's own request reader")
def test_a_reader_that_raises_answers_a_fault_and_reaches_nothing(bus, service, tmp_path, monkeypatch) -> None:
    from turnout.proxy import _fast_connection

    def broken(raw: bytes) -> None:
        raise RuntimeError("a bug in reading")

    monkeypatch.setattr(_fast_connection, "parse_head", broken)
    routes = "  /cris CreateCrimeReport: {mode: translator, writes: true}\n"
    proxy = start(write_config(tmp_path, bus, service, routes))
    try:
        status, data = post(proxy, CREATE, CREATE_HEADERS)
    finally:
        proxy.stop()
    assert status == 500 and fault_of(data)[2] == "internal"
    assert bus.received == [] and service.received == []


@pytest.mark.engine("mitmproxy", reason="mitmproxy's addon chain: the fast host has no addons to escape")
def test_a_hook_that_escapes_still_cannot_reach_the_bus(bus, service, tmp_path, monkeypatch) -> None:
    """mitmproxy logs an addon's exception and carries on, and would then forward the request
    itself: the last addon answers a Fault instead."""
    from turnout.proxy import _addon

    async def escaping(self, flow):
        raise RuntimeError("escaped the gateway adapter")

    monkeypatch.setattr(_addon.GatewayAddon, "request", escaping)
    routes = "  /cris CreateCrimeReport: {mode: translator, writes: true}\n"
    proxy = start(write_config(tmp_path, bus, service, routes))
    try:
        status, data = post(proxy, CREATE, CREATE_HEADERS)
    finally:
        proxy.stop()
    assert status == 500 and fault_of(data)[2] == "internal"
    assert bus.received == []


def test_unsafe_write_route_stops_the_proxy_from_starting(bus, service, tmp_path) -> None:
    routes = "  /cris CreateCrimeReport: {mode: translator, writes: true, on_error: legacy}\n"
    path = write_config(tmp_path, bus, service, routes)
    with pytest.raises(RuntimeError, match="cannot fall back to legacy"):
        start(path)


def test_route_naming_a_missing_translator_is_refused_with_its_line(bus, service, tmp_path) -> None:
    path = write_config(tmp_path, bus, service, "  /geo ResolveLocation: {mode: translator}\n")
    with pytest.raises(RuntimeError) as info:
        start(path)
    assert "ConfigError" in str(info.value) and "geo/ResolveLocation" in str(info.value)


def test_soapaction_mismatch_on_a_translator_route_reaches_neither_path(bus, service, tmp_path) -> None:
    """A bus that dispatches on SOAPAction would run PersonEnquiry; the translator would run the
    Body's VehicleEnquiry. Neither may guess: the caller gets a Fault (before, the bus got it,
    which for a moved write means both systems of record act)."""
    proxy = start(write_config(tmp_path, bus, service, "  /pnc VehicleEnquiry: {mode: translator}\n"))
    try:
        status, data = post(proxy, headers={**SOAP_HEADERS, "SOAPAction": '"urn:police:pnc:v1#PersonEnquiry"'})
    finally:
        proxy.stop()
    assert status == 500 and fault_of(data)[2] == "soapaction-mismatch"
    assert service.received == [] and bus.received == []


def test_canary_is_sticky_per_officer_and_near_its_share(bus, service, tmp_path) -> None:
    extra = "canary: {sticky_header: X-Officer-Id}\n"
    routes = "  /pnc VehicleEnquiry: {mode: canary, percent: 50}\n"
    proxy = start(write_config(tmp_path, bus, service, routes, extra))
    answers: dict[str, set[bytes]] = {}
    try:
        for officer in range(120):
            for _ in range(2):
                _, data = post(proxy, headers={**SOAP_HEADERS, "X-Officer-Id": f"PC{officer:04d}"})
                answers.setdefault(f"PC{officer:04d}", set()).add(data)
    finally:
        proxy.stop()
    assert all(len(seen) == 1 for seen in answers.values())  # sticky
    translated = sum(1 for seen in answers.values() if BUS_ANSWER not in seen)
    assert 35 <= translated <= 85  # 50% of 120, well inside sampling error (sd ~5.5)


def test_route_switch_under_steady_traffic_fails_nothing(bus, service, tmp_path, caplog) -> None:
    path = write_config(tmp_path, bus, service, "  /pnc VehicleEnquiry: {mode: legacy}\n")
    proxy = start(path)
    results: list[tuple[float, int, bytes]] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            status, data = post(proxy)
            results.append((time.monotonic(), status, data))

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        time.sleep(0.5)
        text = path.read_text()
        switched_at = time.monotonic()
        path.write_text(text.replace("mode: legacy", "mode: translator"))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (results and BUS_ANSWER not in results[-1][2]):
            time.sleep(0.05)
        translated_at = next(t for t, _, data in results if t > switched_at and BUS_ANSWER not in data)
        path.write_text(text.replace("mode: legacy", "mode: bogus"))  # refused; translator stays
        time.sleep(1.5)
    finally:
        stop.set()
        worker.join()
        proxy.stop()
    assert all(status == 200 for _, status, _ in results)
    assert translated_at - switched_at < 2.5
    after_bad_edit = [data for t, _, data in results if t > translated_at + 0.1]
    assert after_bad_edit and all(BUS_ANSWER not in data for data in after_bad_edit)
    assert any("route change refused" in r.getMessage() and "mode" in r.getMessage() for r in caplog.records)


def test_shadow_answers_from_the_bus_and_records_the_translation_and_diff(bus, service, tmp_path) -> None:
    proxy = start(write_config(tmp_path, bus, service, "  /pnc VehicleEnquiry: {mode: shadow}\n"))
    try:
        status, data = post(proxy)
    finally:
        proxy.stop()  # drains the shadow queue and the writer
    assert (status, data) == (200, BUS_ANSWER)
    assert len(bus.received) == 1 and len(service.received) == 1
    [exchange] = recorded(tmp_path)
    assert exchange.route == "shadow" and exchange.response.body == BUS_ANSWER
    assert b"<p:colourCode>blue</p:colourCode>" in exchange.translated.body
    assert exchange.translation["equal"] is False
    assert exchange.translation["diff"]  # the two answers really differ here


def test_shadowed_write_goes_only_to_the_dry_run_endpoint(bus, service, tmp_path) -> None:
    service.reply = Reply(status=201, headers=[("Content-Type", "application/json")], body=b"{}")
    routes = "  /cris CreateCrimeReport: {mode: shadow, writes: true, shadow_target: dry-run}\n"
    proxy = start(write_config(tmp_path, bus, service, routes))
    try:
        status, data = post(proxy, CREATE, CREATE_HEADERS)
    finally:
        proxy.stop()
    assert (status, data) == (200, BUS_ANSWER)
    assert [r.path for r in service.received] == ["/crimes/validate"]


def test_a_hanging_shadow_translator_leaves_client_answers_and_latency_as_legacy(bus, service, tmp_path) -> None:
    service.reply = Reply(body=b"{}", delay=5.0)  # the modern service hangs
    extra = "shadow: {concurrency: 2, queue: 3}\n"
    routes = "  /pnc VehicleEnquiry: {mode: shadow, timeout: 1}\n"
    proxy = start(write_config(tmp_path, bus, service, routes, extra))
    latencies = []
    try:
        for _ in range(20):
            started = time.monotonic()
            status, data = post(proxy)
            latencies.append(time.monotonic() - started)
            assert (status, data) == (200, BUS_ANSWER)
        counters = proxy.state.stats.snapshot()
    finally:
        proxy.stop()
    # 2 running + 3 queued could be accepted; the rest were dropped and counted, never waited on
    assert counters.get("shadow.dropped", 0) >= 20 - 5
    assert max(latencies) < 1.0  # nowhere near the 5 s hang
    assert len(recorded(tmp_path)) == 20  # every exchange recorded, shadowed or not
