"""Soak: steady mixed traffic through one proxy, with a neighbour failing on and off, while this
process's memory (RSS), open file descriptors and threads are sampled. None may grow.

    TURNOUT_SOAK_SECONDS=8 pytest tests/test_soak.py                  # the CI run (default 8 s)
    pytest tests/test_soak.py --run-slow                             # + the long run (3 min)
    TURNOUT_SOAK_LONG_SECONDS=600 pytest tests/test_soak.py --run-slow

The traffic, from a few client threads (kept-alive connections, renewed now and then):
- `/cris SearchCrimeReports` on `legacy`;
- `/pnc PersonEnquiry` in shadow against the healthy modern service (diffs, equal);
- `/pnc VehicleEnquiry` on its translator (healthy modern service);
- `/geo ResolveLocation` in shadow against a `FaultServer` that changes what it does every half
  second: hangs, resets, garbage, refuses, stalls, 5xx, answers slowly (shadow work times out,
  fails, or is dropped when its queue is full);
- `/cris GetCrimeReport` on its translator, `on_error: legacy`, against that same failing
  server (it falls back to the bus, after the route timeout when the server hangs; a 5xx is a
  failure of the service too, so it falls back as well).

The demo bus and modern services (uvicorn), the failing server and the proxy all run in this
process, so what is sampled is everything: a leak anywhere shows. Recording is on, with the
demo's redaction; recordings are pruned as the run goes so a long run does not fill the disk.
"""

from __future__ import annotations

import gc
import http.client
import os
import statistics
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from turnout.config import load_proxy_config
from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from turnout.demo.config import write_demo_config
from turnout.proxy import ProxyThread

from .support.faults import JSON, Fault, FaultServer

MB = 1024 * 1024
#: RSS may rise this much over the whole measured run (after warm-up) ...
RSS_BOUND = 30 * MB
#: ... and the mean of its last third may exceed the mean of its first third by this much
RSS_TREND = 8 * MB
FD_SLACK = 12
THREAD_SLACK = 8
CLIENTS = 4


def _envelope(service: str, operation: str, element: str, value: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<s:{operation} xmlns:s="urn:police:{service}:v1"><s:{element}>{value}</s:{element}>'
        f"</s:{operation}></soap:Body></soap:Envelope>"
    ).encode()


CALLS = [
    ("/cris", "SearchCrimeReports", _envelope("cris", "SearchCrimeReports", "offenceCode", "BURG")),
    ("/pnc", "PersonEnquiry", _envelope("pnc", "PersonEnquiry", "surname", "Thistlewood")),
    ("/pnc", "VehicleEnquiry", _envelope("pnc", "VehicleEnquiry", "registrationMark", "TB19 XKF")),
    ("/geo", "ResolveLocation", _envelope("geo", "ResolveLocation", "postcode", "TB1 4LX")),
    ("/cris", "GetCrimeReport", _envelope("cris", "GetCrimeReport", "crimeReference", "CR/2026/000101")),
]
ROUTES = {
    "/pnc PersonEnquiry": "{mode: shadow}",
    "/pnc VehicleEnquiry": "{mode: translator}",
    "/geo ResolveLocation": "{mode: shadow, timeout: 0.5}",
    "/cris GetCrimeReport": "{mode: translator, on_error: legacy, timeout: 0.3}",
}
FAULT_CYCLE = [
    Fault.hang(), Fault.reset(), Fault.garbage(), Fault.refuse(), Fault.stall(),
    Fault.error(503, b'{"detail": "down"}', JSON), Fault.slow(1.0, b"{}", JSON), Fault.reset(after=0),
]


@dataclass
class Samples:
    rss: list[int] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)

    def take(self, process: psutil.Process) -> None:
        self.rss.append(process.memory_info().rss)
        self.fds.append(process.num_fds())
        self.threads.append(threading.active_count())


@dataclass
class Traffic:
    answers: dict[tuple[str, int], int] = field(default_factory=dict)  # (operation, status) -> n
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, operation: str, status: int) -> None:
        with self.lock:
            self.answers[operation, status] = self.answers.get((operation, status), 0) + 1


def _client(host: str, port: int, stop: threading.Event, traffic: Traffic, offset: int) -> None:
    conn: http.client.HTTPConnection | None = None
    i = offset
    while not stop.is_set():
        path, operation, body = CALLS[i % len(CALLS)]
        i += 1
        if conn is None or i % 50 == 0:  # mostly kept alive; a new connection now and then
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=20)
        try:
            conn.request("POST", path, body=body, headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f'"urn:police:{path[1:]}:v1#{operation}"',
            })
            response = conn.getresponse()
            response.read()
            traffic.count(operation, response.status)
        except (OSError, http.client.HTTPException) as exc:
            with traffic.lock:
                traffic.errors.append(f"{operation}: {type(exc).__name__}: {exc}")
            conn.close()
            conn = None
    if conn is not None:
        conn.close()


def _prune(root: Path) -> None:
    for path in root.rglob("*.yaml"):
        path.unlink(missing_ok=True)


@pytest.fixture
def neighbours() -> Iterator[tuple[ServerThread, ServerThread, FaultServer]]:
    store = DemoStore()
    with ServerThread(make_legacy_app(store)) as bus, ServerThread(make_modern_app(store)) as services, \
            FaultServer(FAULT_CYCLE[0], keep=100) as failing:
        yield bus, services, failing


def soak(neighbours: tuple[ServerThread, ServerThread, FaultServer], tmp_path: Path, seconds: float) -> None:
    bus, services, failing = neighbours
    record = tmp_path / "rec"
    path = write_demo_config(tmp_path, bus.url, services.url, record, authenticate=False)  # an open bus
    text = path.read_text()
    for key, route in ROUTES.items():
        text = text.replace(f"  {key}: {{mode: legacy}}", f"  {key}: {route}")
    path.write_text(text)
    config = load_proxy_config(path)
    config = replace(config, services={**config.services, "geo": failing.url, "cris": failing.url})
    assert sum(f"  {key}: {route}" in text for key, route in ROUTES.items()) == len(ROUTES)

    process = psutil.Process()
    gc.collect()
    before = (process.num_fds(), threading.active_count())
    warm_up = max(2.0, 0.2 * seconds)
    samples = Samples()
    traffic = Traffic()
    stop = threading.Event()
    proxy = ProxyThread(config).start()
    clients = [
        threading.Thread(target=_client, args=(proxy.host, proxy.port, stop, traffic, n), daemon=True)
        for n in range(CLIENTS)
    ]
    try:
        for client in clients:
            client.start()
        started = time.monotonic()
        next_fault, next_prune, cycle = started, started + 5, 0
        while (now := time.monotonic()) < started + warm_up + seconds:
            if now >= next_fault:
                failing.fault = FAULT_CYCLE[cycle % len(FAULT_CYCLE)]
                cycle += 1
                next_fault = now + 0.5
            if now >= next_prune:
                _prune(record)
                next_prune = now + 5
            if now >= started + warm_up:
                samples.take(process)
            time.sleep(0.2)
        stop.set()
        for client in clients:
            client.join(30)
        counters = proxy.state.stats.snapshot()
    finally:
        stop.set()
        proxy.stop()
    writer = proxy.state.writer
    gc.collect()
    time.sleep(0.3)  # connections the proxy closed at shutdown leave the failing server's threads
    after = (process.num_fds(), threading.active_count())

    third = max(1, len(samples.rss) // 3)
    rss_first, rss_last = statistics.mean(samples.rss[:third]), statistics.mean(samples.rss[-third:])
    summary = (
        f"{sum(traffic.answers.values())} answers {traffic.answers} in {seconds:g} s (+{warm_up:g} s warm-up); "
        f"RSS {samples.rss[0] / MB:.1f} -> max {max(samples.rss) / MB:.1f} MB, "
        f"mean first third {rss_first / MB:.1f}, last third {rss_last / MB:.1f}; "
        f"fds {min(samples.fds)}..{max(samples.fds)} (before {before[0]}, after {after[0]}); "
        f"threads {min(samples.threads)}..{max(samples.threads)} (before {before[1]}, after {after[1]}); "
        f"counters {counters}"
    )
    print(summary)
    # every answer came from the bus or a translator: the failing neighbour cost the client nothing
    assert not traffic.errors, traffic.errors[:5]
    allowed = {(op, 200) for _, op, _ in CALLS}
    assert set(traffic.answers) <= allowed, summary
    assert all((op, 200) in traffic.answers for _, op, _ in CALLS), summary
    assert counters.get("translator.ok", 0) > 0 and counters.get("outcome.fallback", 0) > 0, summary
    assert counters.get("shadow.equal", 0) > 0 and counters.get("shadow.failed", 0) > 0, summary
    assert writer is not None and writer.failed == 0, summary
    # memory flat
    assert max(samples.rss) - samples.rss[0] < RSS_BOUND, summary
    assert rss_last - rss_first < RSS_TREND, summary
    # no descriptor or thread creep while running, and all given back when the proxy stops
    assert max(samples.fds[-third:]) <= max(samples.fds[:third]) + FD_SLACK, summary
    assert max(samples.threads[-third:]) <= max(samples.threads[:third]) + THREAD_SLACK, summary
    assert after[0] <= before[0] + FD_SLACK, summary
    assert after[1] <= before[1] + THREAD_SLACK, summary


SHORT = float(os.environ.get("TURNOUT_SOAK_SECONDS", "8"))
LONG = float(os.environ.get("TURNOUT_SOAK_LONG_SECONDS", "180"))


def _timeout(seconds: float) -> float:
    """pytest-timeout's bound for a soak of `seconds`: its warm-up, start and stop, and room."""
    return seconds + max(2.0, 0.2 * seconds) + 90


@pytest.mark.timeout(_timeout(SHORT))
def test_soak(neighbours: tuple[ServerThread, ServerThread, FaultServer], tmp_path: Path) -> None:
    soak(neighbours, tmp_path, SHORT)


@pytest.mark.slow
@pytest.mark.timeout(_timeout(LONG))
def test_soak_long(
    neighbours: tuple[ServerThread, ServerThread, FaultServer], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # tests/conftest.py skips `slow` tests without --run-slow; this guard keeps it so without it
    if not request.config.getoption("--run-slow", default=False):
        pytest.skip("a long soak: run with --run-slow")
    soak(neighbours, tmp_path, LONG)
