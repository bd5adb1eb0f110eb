"""What /metrics costs each request: the gateway's handle+finish with metrics on, against the same
run with `state.metrics = None` (nothing measured), in process.

    python bench/metrics_cost.py [--calls 10000] [--rounds 7]

Uses bench/gateway_cost.py's set-up (a zeep-shaped 1.5 KB VehicleEnquiry, an in-memory bus and
JSON service; not recording, no audit, no shadow). CPU time per call, best of --rounds rounds,
the two variants interleaved round by round so a busy machine weighs on both alike. Also
`observe` alone (one call of `GatewayMetrics.observe` on a finished note), and one scrape (the
collector's families rendered as text) after the run, with as many series as the run made.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway_cost import PEER, gateway, handled_by, request  # noqa: E402
from prometheus_client import generate_latest  # noqa: E402

from turnout.gateway import Gateway, GatewayMetrics, registry_for  # noqa: E402


def interleaved(on: Gateway, off: Gateway, expect: str, calls: int, rounds: int) -> tuple[float, float]:
    run_on, run_off = handled_by(on, expect), handled_by(off, expect)
    run_on(min(calls, 1000))
    run_off(min(calls, 1000))
    best_on = best_off = float("inf")
    for _ in range(rounds):
        for run, which in ((run_off, "off"), (run_on, "on")):
            started = time.process_time()
            run(calls)
            spent = time.process_time() - started
            if which == "on":
                best_on = min(best_on, spent)
            else:
                best_off = min(best_off, spent)
    return best_on / calls * 1e6, best_off / calls * 1e6


def observe_alone(made: Gateway, calls: int, rounds: int) -> float:
    handled = asyncio.run(made.handle(request(), PEER))
    metrics = GatewayMetrics(made.state.routes)
    note = handled.note
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            metrics.observe(note)
        best = min(best, time.process_time() - started)
    return best / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"CPU µs per call, best of {args.rounds} x {args.calls}, metrics on / off interleaved")
    for mode, expect in (("legacy", "forwarded"), ("translator", "translated")):
        on, off = gateway(mode), gateway(mode)
        off.state.metrics = None
        with_metrics, without = interleaved(on, off, expect, args.calls, args.rounds)
        print(f"handle+finish {mode:11s} on {with_metrics:7.1f}   off {without:7.1f}   "
              f"+{with_metrics - without:5.1f} µs  ratio {with_metrics / without:.3f}")
        registry = registry_for(on.state, "bench", lambda: True)
        started = time.process_time()
        text = generate_latest(registry)
        print(f"  one scrape after the run: {(time.process_time() - started) * 1e3:.2f} ms CPU, {len(text)} B")
    print(f"GatewayMetrics.observe alone: {observe_alone(gateway('translator'), args.calls, args.rounds):.2f} µs")


if __name__ == "__main__":
    main()
