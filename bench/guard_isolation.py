"""Guard isolation: what one client sending wide envelopes costs everyone else on the proxy.

    python bench/guard_isolation.py [--seconds 10] [--concurrency 8] [--rounds 1]
        [--attacks wide,text] [--turnout-src [LABEL=]DIR ...]

A legal 1 MiB envelope can hold 250,000 empty elements. The guard reads every request on the
proxy's event loop, so what it spends on one such envelope is time every other client waits.
Here the bus, the proxy and the load generator are separate processes: a trivial bus (this
script with --serve-bus: aiohttp, a canned reply, no parsing), `turnout proxy` in front of it,
and in this process 8 "normal" clients posting a small VehicleEnquiry to /pnc for --seconds,
measuring req/s, p50 and p99: first with no attack, then while one attacker connection (another
process) posts a 1 MiB envelope in a loop, as fast as the proxy answers it. Attacks:

  wide       250,000 empty siblings in the operation element (legal: forwarded to the bus)
  text       the same size as one text node: what any 1 MiB request costs, for comparison
  wide-junk  `wide` followed by 4 bytes of junk: unreadable, so the guard parses it twice

With --turnout-src the proxy runs from other checkouts (PYTHONPATH=DIR), all started at once
and measured in turn, so one run shows before and after a change:

    git worktree add /tmp/before 13ba626
    python bench/guard_isolation.py --turnout-src before=/tmp/before --turnout-src after=.

Ratios are against the same proxy's no-attack phase in the same run. With --rounds R every
phase of every proxy runs R times in turn and each phase's figures pool its rounds, so a slow
spell of the shared machine falls on every phase alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import LoadResult, report  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

#: the envelope of tests/test_proxy_passthrough.py
REQUEST = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">\n'
    b'  <soap:Body><p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"><p:vrm>AB12CDE</p:vrm></p:VehicleEnquiry>'
    b"</soap:Body>\n"
    b"</soap:Envelope>\n"
)
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'}
PATH = "/pnc"
REPLY = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<p:VehicleEnquiryResponse xmlns:p="urn:police:pnc:v1"><p:make>FORD</p:make></p:VehicleEnquiryResponse>'
    b"</soap:Body></soap:Envelope>"
)

_OPEN = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
         b'<p:BulkEnquiry xmlns:p="urn:police:pnc:v1">')
_CLOSE = b"</p:BulkEnquiry></soap:Body></soap:Envelope>"
WIDE = _OPEN + b"<a/>" * 250_000 + _CLOSE
ATTACKS = {
    "wide": WIDE,
    "text": _OPEN + b"<a>" + b"x" * (len(WIDE) - len(_OPEN) - len(_CLOSE) - 7) + b"</a>" + _CLOSE,
    "wide-junk": WIDE + b"junk",
}
ATTACK_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:pnc:v1#BulkEnquiry"'}


# --- the guard alone, in process: what each body costs the event loop ----------------------------


def time_guard() -> None:
    """Best of 7 timings of read_envelope (as the guard calls it) on each body, in milliseconds;
    run with PYTHONPATH set to the checkout being measured. One JSON line on stdout."""
    import timeit

    from lxml import etree

    from turnout.soap import SoapError, read_envelope

    def read(body: bytes) -> None:
        try:
            read_envelope(body, PATH, HEADERS)
        except SoapError:
            pass

    timings = {"lxml parse alone (wide)": min(timeit.repeat(lambda: etree.fromstring(WIDE), number=1, repeat=7))}
    for name, body in ATTACKS.items():
        timings[name] = min(timeit.repeat(lambda: read(body), number=1, repeat=7))
    timings["VehicleEnquiry"] = min(timeit.repeat(lambda: read(REQUEST), number=1000, repeat=7)) / 1000
    print(json.dumps({name: seconds * 1000 for name, seconds in timings.items()}))


def guard_timings(source: Path, workdir: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--time-guard"], env={**os.environ, "PYTHONPATH": str(source)},
        cwd=workdir, capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


# --- the bus: a separate process, as cheap as a server can be ------------------------------------


def serve_bus(port: int) -> None:
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=REPLY, content_type="text/xml", charset="utf-8")

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", answer)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --- the attacker: another process, one connection ---------------------------------------------


def attack(url: str, kind: str, stop: "multiprocessing.synchronize.Event", results: "multiprocessing.Queue") -> None:
    async def run() -> None:
        body = ATTACKS[kind]
        statuses: dict[int, int] = {}
        sent = 0
        started = time.perf_counter()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
            while not stop.is_set():
                async with session.post(url, data=body, headers=ATTACK_HEADERS) as reply:
                    await reply.read()
                    statuses[reply.status] = statuses.get(reply.status, 0) + 1
                sent += 1
        results.put({"sent": sent, "seconds": time.perf_counter() - started, "statuses": statuses})

    asyncio.run(run())


# --- the normal clients: this process -----------------------------------------------------------


async def _clients(name: str, url: str, concurrency: int, seconds: float) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.post(url, data=REQUEST, headers=HEADERS) as reply:
                    body = await reply.read()
                    if reply.status != 200 or body != REPLY:
                        errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LoadResult(name, len(latencies), elapsed, latencies, errors)


def clients(name: str, url: str, concurrency: int, seconds: float) -> LoadResult:
    return asyncio.run(_clients(name, url, concurrency, seconds))


# --- processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _probe(url: str) -> bool:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=REQUEST, headers=HEADERS) as reply:
            return reply.status == 200 and await reply.read() == REPLY


def wait_until_serving(url: str, what: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode} before serving")
        try:
            if asyncio.run(_probe(url)):
                return
        except (aiohttp.ClientError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not serve {url} within {timeout:g} s")


@dataclass
class Proxy:
    label: str
    source: Path
    process: subprocess.Popen
    url: str
    imported_from: str


def start_proxy(label: str, source: Path, bus_url: str, workdir: Path) -> Proxy:
    env = {**os.environ, "PYTHONPATH": str(source)}
    imported_from = subprocess.run(
        [sys.executable, "-c", "import turnout; print(turnout.__file__)"],
        env=env, cwd=workdir, capture_output=True, text=True, check=True,
    ).stdout.strip()
    port = free_port()
    log = open(workdir / f"proxy-{label}.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-c", "from turnout.cli import main; main()", "proxy",
         "--upstream", bus_url, "--port", str(port)],
        env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
    )
    return Proxy(label, source, process, f"http://127.0.0.1:{port}{PATH}", imported_from)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def phase(proxy: Proxy, kind: str | None, seconds: float, concurrency: int) -> tuple[LoadResult, dict | None]:
    name = f"{proxy.label}: " + (f"attack {kind}" if kind else "no attack")
    if kind is None:
        return clients(name, proxy.url, concurrency, seconds), None
    context = multiprocessing.get_context("spawn")
    halt, results = context.Event(), context.Queue()
    attacker = context.Process(target=attack, args=(proxy.url, kind, halt, results), daemon=True)
    attacker.start()
    time.sleep(1.0)  # the attacker's process starts and its first envelope is in flight
    result = clients(name, proxy.url, concurrency, seconds)
    halt.set()
    summary = results.get(timeout=60)
    attacker.join(10)
    return result, summary


def pooled(name: str, rounds: list[LoadResult]) -> LoadResult:
    return LoadResult(
        name, sum(r.requests for r in rounds), sum(r.seconds for r in rounds),
        [ms for r in rounds for ms in r.latencies_ms], sum(r.errors for r in rounds),
    )


def parse_source(value: str) -> tuple[str, Path]:
    label, sep, directory = value.partition("=")
    path = Path(directory if sep else value).resolve()
    if not (path / "turnout" / "__init__.py").is_file():
        raise argparse.ArgumentTypeError(f"{path} holds no turnout package")
    return (label if sep else path.name), path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--concurrency", type=int, default=8, help="normal clients, one request each in flight")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--attacks", default="wide,wide-junk,text", help=f"comma-separated, of {', '.join(ATTACKS)}")
    parser.add_argument("--turnout-src", dest="sources", action="append", type=parse_source, default=[],
                        metavar="[LABEL=]DIR", help="run a proxy from this checkout (repeatable)")
    parser.add_argument("--serve-bus", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--time-guard", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bus:
        serve_bus(args.serve_bus)
        return
    if args.time_guard:
        time_guard()
        return
    attacks = [a.strip() for a in args.attacks.split(",") if a.strip()]
    unknown = set(attacks) - set(ATTACKS)
    if unknown:
        parser.error(f"unknown attacks: {', '.join(sorted(unknown))}")
    sources = args.sources or [("this checkout", REPO)]
    started = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        timings = {label: guard_timings(path, workdir) for label, path in sources}
        bus_port = free_port()
        bus = subprocess.Popen([sys.executable, __file__, "--serve-bus", str(bus_port)], cwd=workdir)
        proxies: list[Proxy] = []
        try:
            wait_until_serving(f"http://127.0.0.1:{bus_port}{PATH}", "the bus", bus)
            proxies = [start_proxy(label, path, f"http://127.0.0.1:{bus_port}", workdir) for label, path in sources]
            for proxy in proxies:
                wait_until_serving(proxy.url, f"the proxy from {proxy.source}", proxy.process)
                clients("warm-up", proxy.url, args.concurrency, 2.0)
            kinds: list[str | None] = [None, *attacks]
            runs: dict[tuple[str, str | None], list[LoadResult]] = {}
            attackers: dict[tuple[str, str | None], list[dict]] = {}
            for _ in range(args.rounds):
                for proxy in proxies:
                    for kind in kinds:
                        result, summary = phase(proxy, kind, args.seconds, args.concurrency)
                        runs.setdefault((proxy.label, kind), []).append(result)
                        if summary is not None:
                            attackers.setdefault((proxy.label, kind), []).append(summary)
        finally:
            for proxy in proxies:
                stop(proxy.process)
            stop(bus)

    rounds = "" if args.rounds == 1 else f" x {args.rounds} rounds"
    print(f"{args.concurrency} normal clients for {args.seconds:g} s{rounds} per phase, {PATH} VehicleEnquiry "
          f"({len(REQUEST)} bytes); one attacker connection in another process; bus, proxy and "
          f"load generator in separate processes on loopback")
    print("attack bodies: " + ", ".join(f"{k} {len(ATTACKS[k]):,} bytes" for k in attacks))
    for proxy in proxies:
        print(f"proxy {proxy.label!r}: turnout from {Path(proxy.imported_from).parent.parent}")
    print()
    print("the guard alone, in a process of its own: read_envelope per body, ms (best of 7)")
    names = list(next(iter(timings.values())))
    print(f"{'body':<26}" + "".join(f"{label:>14}" for label in timings))
    for name in names:
        decimals = 3 if name == "VehicleEnquiry" else 1
        print(f"{name:<26}" + "".join(f"{timings[label][name]:>14.{decimals}f}" for label in timings))
    summary_lines = []
    for proxy in proxies:
        results = [pooled(f"{proxy.label}: " + (f"attack {k}" if k else "no attack"), runs[(proxy.label, k)])
                   for k in kinds]
        print()
        print(f"ratios against '{proxy.label}: no attack'")
        print(report(results, results[0]))
        for kind in attacks:
            done = attackers[(proxy.label, kind)]
            sent = sum(d["sent"] for d in done)
            seconds = sum(d["seconds"] for d in done)
            statuses: dict[int, int] = {}
            for d in done:
                for status, count in d["statuses"].items():
                    statuses[status] = statuses.get(status, 0) + count
            print(f"  attacker, {kind}: {sent} envelopes in {seconds:.1f} s ({sent / seconds:.1f}/s, "
                  f"{seconds / max(sent, 1) * 1000:.0f} ms each), HTTP statuses {statuses}")
            under = results[kinds.index(kind)]
            summary_lines.append(
                f"{proxy.label:>14}, attack {kind:<9}: clients {under.rps:6.0f} req/s = "
                f"{under.rps / results[0].rps:.2f}x no attack; p99 {under.p99:7.1f} ms = "
                f"{under.p99 / results[0].p99:.1f}x"
            )
    print()
    print("\n".join(summary_lines))
    print(f"whole run: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
