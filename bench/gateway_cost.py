"""The gateway's own CPU per request, in process: no host, no sockets, no other process.

    python bench/gateway_cost.py [--calls 10000] [--rounds 7]

Issue 12 asks that the fast host cost at most 1.2x a plain aiohttp + uvloop reverse proxy; the
host's HTTP work is measured by bench/hosts.py, this measures what the gateway adds on top:

  guard                  `Gateway.guard` alone: read the request once (target, body, envelope,
                         every hardening check), name the operation, open the request's note
  handle+finish legacy   `Gateway.handle` then `Gateway.finish` with the route on legacy: the
                         guard, the bus-safety check, the route, the bus (an in-memory transport
                         answering a 2 KB envelope at once), framing, counters
  handle+finish translator
                         the same with the route on translator (the test suite's Vehicle
                         translator, an in-memory JSON service)

The request is what zeep sends for a 1.5 KB VehicleEnquiry: its XML declaration, its prefixes,
its header set. Not recording, no audit trail, no shadow. CPU time (`time.process_time`) per
call, best of --rounds rounds of --calls calls, so a busy machine inflates the figures less
than wall time would; compare figures from the same run or the same quiet machine only.
To compare two checkouts, run this file from each (it puts its own checkout first on the path):

    git archive HEAD~3 | tar -x -C /tmp/before && cp bench/gateway_cost.py /tmp/before/bench/
    python /tmp/before/bench/gateway_cost.py; python bench/gateway_cost.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.translators_for_tests import Vehicle  # noqa: E402
from turnout.config import ProxyConfig  # noqa: E402
from turnout.gateway import Gateway, Peer, ProxyState, start  # noqa: E402
from turnout.routing import Route, RouteTable, Served  # noqa: E402
from turnout.soap import HttpRequest, HttpResponse  # noqa: E402
from turnout.transport import Outbound, Streamed, Timeouts  # noqa: E402

BUS = "http://bus.invalid"
PNC = "http://pnc.invalid"

#: a VehicleEnquiry as zeep writes it, padded to about 1.5 KB with the fields a terminal sends
_FIELDS = b"".join(
    b"<ns0:%s>%s</ns0:%s>" % (name, value, name)
    for name, value in [
        (b"vrm", b"TB19XKF"), (b"reason", b"Stop check: vehicle seen leaving the scene at speed"),
        (b"officer", b"PC5518"), (b"force", b"01"), (b"terminal", b"MDT-0417-NORTH"),
        (b"location", b"51.50735,-0.12776"), (b"incident", b"INC-2026-11-30-004711"),
        (b"note", b"x" * 1000),
    ]
)
REQUEST = (
    b"<?xml version='1.0' encoding='utf-8'?>\n"
    b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<soap-env:Body><ns0:VehicleEnquiry xmlns:ns0="urn:police:pnc:v1">' + _FIELDS
    + b"</ns0:VehicleEnquiry></soap-env:Body></soap-env:Envelope>"
)
HEADERS = [
    ("Host", "proxy.force.example:8080"),
    ("User-Agent", "Zeep/4.2.1 (www.python-zeep.org)"),
    ("Accept-Encoding", "gzip, deflate"),
    ("Accept", "*/*"),
    ("Connection", "keep-alive"),
    ("SOAPAction", '"urn:police:pnc:v1#VehicleEnquiry"'),
    ("Content-Type", "text/xml; charset=utf-8"),
    ("Content-Length", str(len(REQUEST))),
]
#: the bus's answer: about 2 KB, with the hop-by-hop headers a real server sends
BUS_ANSWER = HttpResponse(
    200,
    [("Content-Type", "text/xml; charset=utf-8"), ("Server", "Microsoft-IIS/10.0"),
     ("Date", "Mon, 30 Nov 2026 12:00:00 GMT"), ("Connection", "keep-alive"),
     ("Keep-Alive", "timeout=5"), ("Transfer-Encoding", "chunked")],
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<p:VehicleEnquiryResponse xmlns:p="urn:police:pnc:v1"><p:make>FORD</p:make><p:model>'
    + b"y" * 1800 + b"</p:model></p:VehicleEnquiryResponse></soap:Body></soap:Envelope>",
)
PNC_ANSWER = HttpResponse(200, [("Content-Type", "application/json")], json.dumps({"colour": "RED"}).encode())


class Canned:
    """A transport answering at once from memory, keeping nothing (a test's MemoryTransport
    keeps every request it was sent, which grows over 70,000 calls)."""

    async def send(self, request: Outbound, *, timeouts: Timeouts, max_body: int | None = None,
                   stream_over: bool = False) -> HttpResponse | Streamed:
        return BUS_ANSWER if request.url.startswith(BUS) else PNC_ANSWER

    async def close(self) -> None:
        pass


def gateway(mode: str) -> Gateway:
    state = ProxyState(ProxyConfig(upstream=BUS, services={"pnc": PNC}))
    routes = [Route("/pnc VehicleEnquiry", mode=mode)] if mode != "legacy" else []
    vehicle = Vehicle()
    state.routes.install(Served(RouteTable(routes), MappingProxyType({vehicle.name: vehicle})))
    made = Gateway(state)
    asyncio.run(start(made, Canned()))
    return made


def request() -> HttpRequest:
    return HttpRequest("POST", "/pnc", list(HEADERS), REQUEST)


PEER = Peer("10.0.0.7", 50123)


def per_call(run: Callable[[int], None], calls: int, rounds: int) -> float:
    """CPU µs per call, best of `rounds`."""
    run(min(calls, 1000))  # warm up: compiled checks, parsers, imports
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        run(calls)
        best = min(best, time.process_time() - started)
    return best / calls * 1e6


def guard_of(made: Gateway) -> Callable[[int], None]:
    def run(calls: int) -> None:
        for _ in range(calls):
            made.guard(request(), PEER)
    return run


def handled_by(made: Gateway, expect: str) -> Callable[[int], None]:
    async def serve(calls: int) -> None:
        for _ in range(calls):
            handled = await made.handle(request(), PEER)
            made.finish(handled, handled.response.status if handled.response else None)
        assert str(handled.note.outcome) == expect, handled.note.outcome

    def run(calls: int) -> None:
        asyncio.run(serve(calls))
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    legacy, translator = gateway("legacy"), gateway("translator")
    print(f"checkout {REPO}; request {len(REQUEST)} B, bus answer {len(BUS_ANSWER.body)} B; "
          f"CPU µs per call, best of {args.rounds} x {args.calls}")
    for name, run in [
        ("guard", guard_of(legacy)),
        ("handle+finish legacy", handled_by(legacy, "forwarded")),
        ("handle+finish translator", handled_by(translator, "translated")),
    ]:
        print(f"{name:28s} {per_call(run, args.calls, args.rounds):8.1f}")


if __name__ == "__main__":
    main()
