"""Shadow isolation: what the client sees when the shadow translator is healthy, hangs or crashes.

    python bench/shadow_isolation.py [--requests 2000] [--concurrency 8] [--timeout 2] [--rounds 1]

The same VehicleEnquiry request, N times with C in flight, through the proxy with its route on
`legacy`, then on `shadow` with the demo's healthy translator and modern service, then on
`shadow` with the modern service hanging (a FaultServer that reads the call and never answers;
each shadow job ends at the route's --timeout), then on `shadow` with a translator that raises in
`to_call`, and `legacy` once more (how much the figures move between two identical runs). One
proxy at a time, recording off, the demo's shadow settings (4 workers, queue of 200).

A first, unreported legacy run warms the process up. Per case: req/s, p50 and p99 (ratios
against the first `legacy` run); then per run its req/s and p50, the shadow counters once
the proxy has stopped (equal, different, failed, dropped when the queue was full, unfinished when
the stop's drain gave up on them; warm-up included), the most shadow jobs in hand at once
(queued + running, sampled every 10 ms) and at the end of the load, how much this process's RSS
grew over the load, and how long the stop took.

Everything is on loopback in one process (bus, services, proxy, load generator), so read the
ratios, measured in the same run, not the absolute numbers. With `--rounds R`, the five cases run
R times in turn and each case's figures are over all its rounds (latencies pooled, req/s over the
summed time), so a slow spell of the machine falls on every case alike.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _load import LoadResult, report, run_load  # noqa: E402

from tests.support.faults import Fault, FaultServer  # noqa: E402
from turnout.config import ProxyConfig, load_proxy_config  # noqa: E402
from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app  # noqa: E402
from turnout.demo.config import write_demo_config  # noqa: E402
from turnout.demo.translators import DIRECTORY  # noqa: E402
from turnout.proxy import ProxyThread  # noqa: E402

REQUEST = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<pnc:VehicleEnquiry xmlns:pnc="urn:police:pnc:v1"><pnc:registrationMark>TB19 XKF</pnc:registrationMark>'
    b"</pnc:VehicleEnquiry></soap:Body></soap:Envelope>"
)
PATH = "/pnc"
KEY = "/pnc VehicleEnquiry"
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'}

CRASHING = '''
class CrashingVehicleEnquiry:
    """The demo's VehicleEnquiry, with a bug: it raises before any call is made."""

    name = "pnc/VehicleEnquiry"
    operation = "/pnc VehicleEnquiry"
    service = "pnc"
    writes = False

    def to_call(self, request, *, dry_run=False):
        raise RuntimeError("a bug in a translator")

    def to_reply(self, reply, request):
        raise RuntimeError("never reached")


TRANSLATORS = [CrashingVehicleEnquiry()]
'''


class Sampler:
    """Samples, on a thread, the proxy's shadow jobs in hand and this process's RSS."""

    def __init__(self, proxy: ProxyThread) -> None:
        self.proxy = proxy
        self.max_pending = 0
        self.process = psutil.Process()
        self.rss_start = self.process.memory_info().rss
        self.rss_max = self.rss_start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            shadow = self.proxy.state.shadow
            if shadow is not None:
                self.max_pending = max(self.max_pending, shadow.pending)
            self.rss_max = max(self.rss_max, self.process.memory_info().rss)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_case(name: str, config: ProxyConfig, n: int, c: int) -> tuple[LoadResult, dict[str, Any]]:
    with ProxyThread(config) as proxy:
        url = proxy.url + PATH
        run_load("warm-up", url, REQUEST, HEADERS, 200, c)
        with Sampler(proxy) as sampler:
            result = run_load(name, url, REQUEST, HEADERS, n, c)
        shadow = proxy.state.shadow
        pending_at_end = shadow.pending if shadow is not None else 0
        stop_started = time.perf_counter()
    stopped_in = time.perf_counter() - stop_started  # the stop drains the shadow queue (10 s at most)
    counters = proxy.state.stats.snapshot()  # after the stop: every shadow job accounted for
    shadow_counts = {k.split(".", 1)[1]: v for k, v in sorted(counters.items()) if k.startswith("shadow.")}
    info = {
        "req/s": round(result.rps),
        "p50 ms": round(result.p50, 2),
        "shadow": shadow_counts,
        "max in hand": sampler.max_pending,
        "in hand at end of load": pending_at_end,
        "RSS +MB": round((sampler.rss_max - sampler.rss_start) / 1024 / 1024, 1),
        "stop s": round(stopped_in, 1),
    }
    return result, info


def pooled(name: str, rounds: list[LoadResult]) -> LoadResult:
    return LoadResult(
        name, sum(r.requests for r in rounds), sum(r.seconds for r in rounds),
        [ms for r in rounds for ms in r.latencies_ms], sum(r.errors for r in rounds),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=2.0, help="the shadow route's timeout, seconds")
    parser.add_argument("--rounds", type=int, default=1, help="run the five cases this many times in turn")
    args = parser.parse_args()
    n, c = args.requests, args.concurrency
    started = time.perf_counter()

    behind = DemoStore()
    with tempfile.TemporaryDirectory() as tmp_name, \
            ServerThread(make_legacy_app(behind)) as bus, \
            ServerThread(make_modern_app(behind)) as services, \
            FaultServer(Fault.hang()) as hanging:
        tmp = Path(tmp_name)
        path = write_demo_config(tmp, bus.url, services.url, tmp / "rec")
        base = replace(load_proxy_config(path), record_dir=None)
        text = path.read_text()
        legacy_line = f"  {KEY}: {{mode: legacy}}"
        assert legacy_line in text

        def with_route(route: str, **changes: Any) -> ProxyConfig:
            routes = tmp / f"routes-{len(list(tmp.glob('routes-*')))}"
            routes.mkdir()
            file = routes / "turnout.yaml"
            file.write_text(text.replace(legacy_line, f"  {KEY}: {route}"))
            return replace(load_proxy_config(file), record_dir=None, **changes)

        crashing = tmp / "translators"
        shutil.copytree(DIRECTORY, crashing, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
        (crashing / "pnc" / "vehicle_enquiry.yaml").unlink()
        (crashing / "pnc" / "vehicle_crashing.py").write_text(CRASHING)

        shadow = f"{{mode: shadow, timeout: {args.timeout:g}}}"
        cases = [
            ("legacy", with_route("{mode: legacy}")),
            ("shadow, healthy", with_route(shadow)),
            ("shadow, service hangs", with_route(shadow, services={**base.services, "pnc": hanging.url})),
            ("shadow, translator crashes", with_route(shadow, translators_dir=crashing)),
            ("legacy, again", with_route("{mode: legacy}")),
        ]
        run_case("process warm-up", cases[0][1], n // 4, c)  # the first proxy in a process starts cold
        runs: dict[str, list[LoadResult]] = {name: [] for name, _ in cases}
        infos: list[tuple[str, dict[str, Any]]] = []
        for round_ in range(args.rounds):
            for name, config in cases:  # one proxy per process (mitmproxy's state is process-wide)
                result, info = run_case(name, config, n, c)
                runs[name].append(result)
                infos.append((name if args.rounds == 1 else f"{name} #{round_ + 1}", info))
        hung_calls = hanging.count
    results = [pooled(name, rounds) for name, rounds in runs.items()]

    rounds = "" if args.rounds == 1 else f" x {args.rounds} rounds"
    print(f"{n} requests{rounds}, {c} concurrent, {KEY} on loopback, recording off, shadow workers 4, "
          f"queue 200, shadow timeout {args.timeout:g} s; ratios against 'legacy'")
    print(report(results, results[0]))
    print()
    for name, info in infos:
        print(f"{name:<31} {info}")
    print(f"calls the hanging service read (never answered): {hung_calls}")
    print(f"whole run: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
