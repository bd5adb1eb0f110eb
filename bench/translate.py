"""What translation costs: the demo translators' two halves in process, and the proxy in
translator mode against legacy pass-through.

    python bench/translate.py [--iterations 1000] [--requests 2000] [--concurrency 8]

1. For each of the 7 demo operations: a request envelope exactly as zeep sends it (captured from
   a zeep client calling the demo bus) and the modern service's real JSON reply (captured once by
   calling the modern app over HTTP). Timed in process, microseconds per message, median of 5
   repeats of --iterations: the request half (`read_envelope` + `to_call`) and the reply half
   (`to_reply` to bytes), beside lxml alone on the same documents (`parse_xml` of the request +
   `etree.tostring` of the parsed translated response).
2. VehicleEnquiry, --requests at --concurrency, straight to the bus, straight to the modern
   service (the GET its translator makes), and through the proxy with its route on `legacy` and
   then on `translator` (real modern services over HTTP), recording off.

All on loopback, one machine and one process: the bus and the services (uvicorn threads), the
proxy (its own thread and loop) and the load generator share the cores and the interpreter lock,
so what the bus or the service spends per request is taken from the proxy too. Read the ratios
(measured in the same run), not the absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import timeit
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import requests
import zeep
from lxml import etree
from zeep.transports import Transport

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import report, run_load  # noqa: E402

from turnout.config import load_proxy_config  # noqa: E402
from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app  # noqa: E402
from turnout.demo.config import write_demo_config  # noqa: E402
from turnout.demo.translators import DIRECTORY  # noqa: E402
from turnout.proxy import ProxyThread  # noqa: E402
from turnout.routing import set_route  # noqa: E402
from turnout.soap import Envelope, parse_xml, read_envelope  # noqa: E402
from turnout.translators import JsonReply, Translator, TranslatorSet, load_translators  # noqa: E402

REPEATS = 5

# one realistic, successful call per operation (the shapes tests/test_translators_demo.py uses)
OPERATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("/pnc", "PersonEnquiry", {"surname": "Thistlewood"}),
    ("/pnc", "VehicleEnquiry", {"registrationMark": "TB19 XKF"}),
    ("/geo", "ResolveLocation", {"postcode": "TB1 4LX"}),
    ("/cris", "GetCrimeReport", {"crimeReference": "CR/2026/000101"}),
    ("/cris", "SearchCrimeReports", {"offenceCode": "BURG"}),
    ("/cris", "CreateCrimeReport", {
        "offenceCode": "BURG", "committedDate": "20260309", "committedTime": "2130",
        "beatCode": "TN01", "addressLine": "14 Larkspur Close, Turnbridge", "postcode": "tb14lx",
        "summary": "Side gate forced, bicycle taken.", "reportingOfficer": "PC4127",
        "victimPncId": "98/104233K",
    }),
    ("/eforms", "SubmitWitnessStatement", {
        "officerId": "PC4127", "crimeReference": "CR/2026/000101",
        "statementText": "I saw a man climb over the side gate at about half past nine.",
        "witness": {"surname": "Lowe", "forenames": "Harriet", "dateOfBirth": "01/05/1990",
                    "addressLine": "3 Hollowmead Rise, Turnbridge", "postcode": "TB1 7HQ"},
    }),
]
LOAD_PATH, LOAD_OPERATION = "/pnc", "VehicleEnquiry"


class CapturingTransport(Transport):
    """zeep's own transport, keeping the last (body, headers) it posted."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent: tuple[bytes, dict[str, str]] | None = None

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        self.sent = (message, dict(headers))
        return super().post(address, message, headers)


@dataclass
class Sample:
    key: str
    path: str
    body: bytes
    headers: dict[str, str]
    legacy_status: int
    translator: Translator
    envelope: Envelope
    json_reply: JsonReply
    response: bytes  # the translated SOAP answer, once


def capture(bus_url: str, services_url: str, translators: TranslatorSet) -> list[Sample]:
    """Request bytes from zeep against the bus; JSON replies from the modern app, over HTTP."""
    samples = []
    with requests.Session() as session:
        transport = CapturingTransport(session=session, timeout=10, operation_timeout=10)
        clients: dict[str, zeep.Client] = {}
        for path, operation, args in OPERATIONS:
            if path not in clients:
                clients[path] = zeep.Client(f"{bus_url}{path}?wsdl", transport=transport)
            client = clients[path]
            with client.settings(raw_response=True):
                legacy = getattr(client.service, operation)(**args)
            assert transport.sent is not None
            body, headers = transport.sent
            envelope = read_envelope(body, path, headers)
            translator = translators.for_operation(envelope.operation.key)
            assert translator is not None, envelope.operation.key
            call = translator.to_call(envelope)
            answer = session.request(
                call.method, services_url + call.path, params=list(call.query),
                headers=dict(call.headers), json=call.body, timeout=10,
            )
            json_reply = JsonReply(answer.status_code, tuple(answer.headers.items()),
                                   json.loads(answer.content) if answer.content else None)
            translated = translator.to_reply(json_reply, envelope)
            if translated.status != legacy.status_code:
                raise SystemExit(f"{envelope.operation.key}: translated {translated.status}, "
                                 f"legacy {legacy.status_code}")
            samples.append(Sample(envelope.operation.key, path, body, headers, legacy.status_code,
                                  translator, envelope, json_reply, translated.body))
    return samples


def per_message_us(fn: Callable[[], object], iterations: int) -> float:
    """Median over REPEATS of `iterations` calls, in microseconds per call (timeit-style)."""
    fn()  # warm
    runs = timeit.Timer(fn).repeat(repeat=REPEATS, number=iterations)
    return statistics.median(runs) / iterations * 1e6


def time_halves(samples: list[Sample], iterations: int) -> str:
    lines = [
        f"{'operation':<30} {'req B':>6} {'resp B':>6} {'request µs':>10} {'reply µs':>9} "
        f"{'both µs':>8} {'lxml µs':>8} {'ratio':>6}"
    ]
    totals = [0.0, 0.0, 0.0]
    for s in samples:
        translator, envelope, reply, body, path, headers = (
            s.translator, s.envelope, s.json_reply, s.body, s.path, s.headers)
        response_tree = parse_xml(s.response)

        def request_half() -> object:
            return translator.to_call(read_envelope(body, path, headers))

        def reply_half() -> bytes:
            return translator.to_reply(reply, envelope).body

        def lxml_alone() -> bytes:
            parse_xml(body)
            return etree.tostring(response_tree, xml_declaration=True, encoding="utf-8")

        request_us = per_message_us(request_half, iterations)
        reply_us = per_message_us(reply_half, iterations)
        lxml_us = per_message_us(lxml_alone, iterations)
        both = request_us + reply_us
        totals[0] += both
        totals[1] += lxml_us
        lines.append(
            f"{s.key:<30} {len(body):>6} {len(s.response):>6} {request_us:>10.1f} {reply_us:>9.1f} "
            f"{both:>8.1f} {lxml_us:>8.1f} {both / lxml_us:>6.1f}"
        )
    lines.append(
        f"{'mean of the 7':<30} {'':>6} {'':>6} {'':>10} {'':>9} "
        f"{totals[0] / len(samples):>8.1f} {totals[1] / len(samples):>8.1f} "
        f"{totals[0] / totals[1]:>6.1f}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=1000, help="calls per timing repeat (5 repeats)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    n, c = args.requests, args.concurrency
    started = time.perf_counter()

    translators = load_translators(DIRECTORY)
    behind = DemoStore()  # one store under both the bus and the modern services
    with tempfile.TemporaryDirectory() as tmp, \
            ServerThread(make_legacy_app(behind)) as bus, \
            ServerThread(make_modern_app(behind)) as services:
        samples = capture(bus.url, services.url, translators)
        halves = time_halves(samples, args.iterations)

        vehicle = next(s for s in samples if s.key == f"{LOAD_PATH} {LOAD_OPERATION}")
        body, headers = vehicle.body, vehicle.headers
        config_path = write_demo_config(Path(tmp), bus.url, services.url, Path(tmp) / "rec")

        def proxy_config() -> Any:  # the demo's config and routes file, recording off
            return replace(load_proxy_config(config_path), record_dir=None)

        run_load("warm-up", bus.url + LOAD_PATH, body, headers, 200, c)
        direct = run_load("direct to bus", bus.url + LOAD_PATH, body, headers, n, c)
        call = vehicle.translator.to_call(vehicle.envelope)  # GET /vehicles/{mark}, no body
        assert call.method == "GET" and call.body is None and not call.query, call
        run_load("warm-up", services.url + call.path, None, {}, 200, c)
        modern = run_load("direct to modern (GET)", services.url + call.path, None, {}, n, c)
        counters = {}
        # one proxy per process (mitmproxy's state is process-wide), so one after the other
        set_route(config_path, f"{LOAD_PATH} {LOAD_OPERATION}", "legacy")
        with ProxyThread(proxy_config()) as proxy:
            run_load("warm-up", proxy.url + LOAD_PATH, body, headers, 200, c)
            legacy = run_load("proxy, route legacy", proxy.url + LOAD_PATH, body, headers, n, c)
            counters["legacy"] = proxy.state.stats.snapshot()
        set_route(config_path, f"{LOAD_PATH} {LOAD_OPERATION}", "translator")
        with ProxyThread(proxy_config()) as proxy:
            run_load("warm-up", proxy.url + LOAD_PATH, body, headers, 200, c)
            translated = run_load("proxy, route translator", proxy.url + LOAD_PATH, body, headers, n, c)
            counters["translator"] = proxy.state.stats.snapshot()

    print(f"per message, in process: median of {REPEATS} x {args.iterations} calls; "
          "lxml = parse_xml(request) + etree.tostring(parsed translated response)")
    print(halves)
    print()
    print(f"{n} requests, {c} concurrent, {LOAD_OPERATION} (zeep's bytes) on loopback; "
          "ratios against 'proxy, route legacy'")
    print(report([direct, modern, legacy, translated], legacy))
    for mode, snapshot in counters.items():
        outcomes = {k: v for k, v in sorted(snapshot.items())
                    if k.startswith(("outcome.", "translator.", "status."))}
        print(f"counters, route {mode} (warm-up included): {outcomes}")
    print(f"whole run: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
