"""What tracing costs per request, in process: OTLP off (ids and traceparent only) and on.

    python bench/tracing_cost.py [--calls 5000] [--rounds 5]

The gateway of bench/gateway_cost.py (in-memory bus and JSON service, no host, no sockets),
`Gateway.handle` then `Gateway.finish` per request, each request with a client `traceparent`:

  off            no `tracing:` section: the guard reads the traceparent, makes the proxy's span
                 id, and the bus (or service) call carries X-Request-Id and traceparent
  on             `tracing:` set, every trace sampled: after each answer the request's spans
                 (the request's, the bus call's or the service call's) are built and queued to
                 OpenTelemetry's BatchSpanProcessor; its thread encodes them as OTLP protobuf
                 (the exporter drops the bytes instead of POSTing them: no collector measured)
  on, unsampled  `tracing:` set, the client's traceparent says not sampled: nothing is built

and, alone, the per-request steps that OTLP-off tracing adds (`Gateway.trace` + the outbound
headers). CPU time of the whole process (`time.process_time`: the exporter's thread included,
flushed at the end of each round), best of --rounds rounds; ratios are against `off`. What the
ids add against a checkout without them: run bench/gateway_cost.py from both checkouts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from gateway_cost import HEADERS, PEER, REQUEST, gateway  # noqa: E402
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult  # noqa: E402

from turnout.config import TracingSettings  # noqa: E402
from turnout.gateway import Gateway  # noqa: E402
from turnout.gateway._spans import SpanExport  # noqa: E402
from turnout.gateway._trace_context import outbound  # noqa: E402
from turnout.soap import HttpRequest  # noqa: E402

SAMPLED = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
UNSAMPLED = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"


class Encoding(SpanExporter):
    """Encodes each batch as the OTLP/HTTP exporter would, then drops it."""

    def __init__(self) -> None:
        self.spans = 0
        self.bytes = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        self.bytes += len(encode_spans(spans).SerializeToString())
        return SpanExportResult.SUCCESS


def traced(made: Gateway, exporter: Encoding | None) -> Gateway:
    if exporter is not None:
        made.state.spans = SpanExport(TracingSettings("http://collector.invalid/v1/traces"), exporter)
    return made


def request(traceparent: str) -> HttpRequest:
    return HttpRequest("POST", "/pnc", [*HEADERS, ("traceparent", traceparent)], REQUEST)


def serving(made: Gateway, traceparent: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    """Serve `calls` requests; then (`settle`) let the exporter's thread send what is queued."""
    async def serve(calls: int) -> None:
        for _ in range(calls):
            handled = await made.handle(request(traceparent), PEER)
            made.finish(handled, handled.response.status if handled.response else None)

    def run(calls: int) -> None:
        asyncio.run(serve(calls))

    def settle() -> None:
        spans = made.state.spans
        if spans is not None:
            spans.flush()
    return run, settle


def ids_alone(made: Gateway) -> tuple[Callable[[int], None], Callable[[], None]]:
    note = made.guard(request(SAMPLED), PEER)

    def run(calls: int) -> None:
        for _ in range(calls):
            made.trace(note, SAMPLED)
            outbound(note.request_id, note.trace_id, note.span_id, note.trace_flags)
    return run, lambda: None


def per_call(work: tuple[Callable[[int], None], Callable[[], None]], calls: int, rounds: int
             ) -> tuple[float, float]:
    """CPU µs per call of the whole process (the exporter's thread included, its queue sent
    before the round ends) and of the serving thread alone, best of `rounds`."""
    run, settle = work
    run(min(calls, 500))  # warm up
    settle()
    best, best_thread = float("inf"), float("inf")
    for _ in range(rounds):
        started, thread_started = time.process_time(), time.thread_time()
        run(calls)
        best_thread = min(best_thread, time.thread_time() - thread_started)
        settle()
        best = min(best, time.process_time() - started)
    return best / calls * 1e6, best_thread / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"CPU µs per request, best of {args.rounds} x {args.calls}; ratio against OTLP off; "
          "[the serving thread's share]")
    for mode in ("legacy", "translator"):
        off, off_thread = per_call(serving(gateway(mode), SAMPLED), args.calls, args.rounds)
        exporter = Encoding()
        on, on_thread = per_call(serving(traced(gateway(mode), exporter), SAMPLED), args.calls, args.rounds)
        unsampled, _ = per_call(serving(traced(gateway(mode), Encoding()), UNSAMPLED), args.calls, args.rounds)
        requests = min(args.calls, 500) + args.calls * args.rounds
        print(f"{mode:10s} off {off:6.1f} [{off_thread:6.1f}]   on {on:6.1f} [{on_thread:6.1f}] ({on / off:4.2f}x)"
              f"   on, unsampled {unsampled:6.1f} ({unsampled / off:4.2f}x)   "
              f"{exporter.spans / requests:.2f} spans per request exported, "
              f"{exporter.bytes / max(exporter.spans, 1):.0f} B of OTLP each")
    ids, _ = per_call(ids_alone(gateway("legacy")), args.calls * 10, args.rounds)
    print(f"ids alone (trace + outbound headers): {ids:.2f} µs per request")


if __name__ == "__main__":
    main()
