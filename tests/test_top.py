"""`turnout top`: the arithmetic on hand-written /metrics texts, and the command against real
proxy processes in front of the demo bus and services, through a route switch.

The numbers a person reads during a switch (rate, p50/p99, errors, fallbacks, modes) come from
two scrapes of each proxy; each is checked here against a hand computation.
"""

from __future__ import annotations

import http.server
import json
import math
import re
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from turnout.demo.config import write_demo_config
from turnout.observe import (
    Scrape,
    bucket_quantile,
    merge_buckets,
    read_exposition,
    scrape,
    top_view,
)
from turnout.routing import set_route

from .support import proxy_process
from .support.proxy_process import TURNOUT, ProxyProcess, free_port

VEHICLE, PERSON = "/pnc VehicleEnquiry", "/pnc PersonEnquiry"
BOUNDS = ("0.01", "0.05", "0.1", "+Inf")


def exposition(*, requests: dict[tuple[str, str, str], float] | None = None,
               buckets: dict[tuple[str, str], tuple[float, ...]] | None = None,
               fallbacks: dict[tuple[str, str], float] | None = None,
               shadow: dict[tuple[str, str], float] | None = None,
               modes: dict[str, str] | None = None, instance: str = "a", version: float = 1,
               ready: int = 1, queues: dict[str, float] | None = None) -> str:
    """A /metrics body as prometheus-client writes one, with the series `turnout top` reads."""
    out = ["# HELP turnout_requests_total Requests.", "# TYPE turnout_requests_total counter"]
    for (op, mode, outcome), value in (requests or {}).items():
        out.append(f'turnout_requests_total{{operation="{op}",mode="{mode}",outcome="{outcome}"}} {value}')
        out.append(f'turnout_requests_created{{operation="{op}",mode="{mode}",outcome="{outcome}"}} 1.7e9')
    out.append("# TYPE turnout_request_duration_seconds histogram")
    for (op, mode), counts in (buckets or {}).items():
        for le, count in zip(BOUNDS, counts, strict=True):
            out.append(f'turnout_request_duration_seconds_bucket{{operation="{op}",mode="{mode}",le="{le}"}} {count}')
        out.append(f'turnout_request_duration_seconds_count{{operation="{op}",mode="{mode}"}} {counts[-1]}')
        out.append(f'turnout_request_duration_seconds_sum{{operation="{op}",mode="{mode}"}} 0.5')
    out.append("# TYPE turnout_fallbacks_total counter")
    for (op, reason), value in (fallbacks or {}).items():
        out.append(f'turnout_fallbacks_total{{operation="{op}",reason="{reason}"}} {value}')
    out.append("# TYPE turnout_shadow_comparisons_total counter")
    for (op, result), value in (shadow or {}).items():
        out.append(f'turnout_shadow_comparisons_total{{operation="{op}",result="{result}"}} {value}')
    if modes is not None:  # a proxy that reports modes writes the family, samples or not
        out.append("# TYPE turnout_route_mode gauge")
        for op, mode in modes.items():
            for each in ("legacy", "translator", "shadow", "canary"):
                out.append(f'turnout_route_mode{{operation="{op}",mode="{each}"}} {int(each == mode)}')
    out += [
        "# TYPE turnout_route_table_version gauge", f"turnout_route_table_version {version}",
        "# TYPE turnout_ready gauge", f"turnout_ready {ready}",
        "# TYPE turnout_queue_items gauge",
        *(f'turnout_queue_items{{queue="{q}"}} {n}' for q, n in (queues or {}).items()),
        "# TYPE turnout_build_info gauge",
        f'turnout_build_info{{version="0.9",engine="fast",instance="{instance}"}} 1',
    ]
    return "\n".join(out) + "\n"


def read(text: str, at: float, url: str = "http://a") -> Scrape:
    scraped = read_exposition(text, url, at)
    assert scraped.error is None, scraped.error
    return scraped


# -- the arithmetic ----------------------------------------------------------------------------


def test_rate_errors_and_fallbacks_come_from_the_increase_over_the_interval() -> None:
    before = read(exposition(
        requests={(VEHICLE, "translator", "translated"): 10, (VEHICLE, "translator", "upstream-error"): 1,
                  (VEHICLE, "translator", "fallback"): 2},
        fallbacks={(VEHICLE, "translator failed"): 2}, modes={VEHICLE: "translator"},
        shadow={(VEHICLE, "same"): 4, (VEHICLE, "different"): 1, (VEHICLE, "failed"): 1,
                (VEHICLE, "skipped"): 9},
    ), at=100.0)
    now = read(exposition(
        requests={(VEHICLE, "translator", "translated"): 40, (VEHICLE, "translator", "upstream-error"): 3,
                  (VEHICLE, "translator", "fallback"): 3, (VEHICLE, "translator", "translator-fault"): 1},
        fallbacks={(VEHICLE, "translator failed"): 3}, modes={VEHICLE: "translator"},
        shadow={(VEHICLE, "same"): 4, (VEHICLE, "different"): 1, (VEHICLE, "failed"): 1,
                (VEHICLE, "skipped"): 9},
    ), at=102.0)
    (row,) = top_view([(before, now)]).operations
    assert row.operation == VEHICLE and row.mode_text() == "translator"
    assert row.requests == 30 + 2 + 1 + 1
    assert row.rate == pytest.approx(34 / 2)
    assert row.errors == 2 + 1  # upstream-error +2, translator-fault +1 (new series); a fallback is not one
    assert row.errors_total == 3 + 1
    assert (row.fallbacks, row.fallbacks_total) == (1, 3)
    assert (row.shadow_same, row.shadow_compared) == (4, 6)  # skipped is not compared
    assert row.requests_total == 47


def test_a_counter_that_went_down_restarted_and_its_whole_value_is_the_increase() -> None:
    before = read(exposition(requests={(VEHICLE, "legacy", "forwarded"): 500}), at=10.0)
    now = read(exposition(requests={(VEHICLE, "legacy", "forwarded"): 7}), at=11.0)
    (row,) = top_view([(before, now)]).operations
    assert row.requests == 7 and row.rate == pytest.approx(7.0)


def test_another_instance_at_the_same_url_counts_from_zero_even_when_its_counters_are_higher() -> None:
    before = read(exposition(requests={(VEHICLE, "legacy", "forwarded"): 5},
                             buckets={(VEHICLE, "legacy"): (1, 2, 5, 5)}, instance="one"), at=10.0)
    now = read(exposition(requests={(VEHICLE, "legacy", "forwarded"): 8},
                          buckets={(VEHICLE, "legacy"): (8, 8, 8, 8)}, instance="two"), at=11.0)
    view = top_view([(before, now)])
    assert view.proxies[0].restarted
    (row,) = view.operations
    assert row.requests == 8  # not 8 - 5
    assert row.p50 == pytest.approx(0.005)  # all 8 in the first bucket: its middle


def test_quantiles_interpolate_inside_the_bucket_as_histogram_quantile_does() -> None:
    buckets = {0.01: 10.0, 0.05: 30.0, 0.1: 40.0, math.inf: 40.0}
    # p50: rank 20 falls in (0.01, 0.05], holding 20 with 10 below: 0.01 + 0.04 * 10/20
    assert bucket_quantile(0.5, buckets) == pytest.approx(0.03)
    # p99: rank 39.6 falls in (0.05, 0.1], holding 10 with 30 below: 0.05 + 0.05 * 9.6/10
    assert bucket_quantile(0.99, buckets) == pytest.approx(0.098)
    # the first bucket starts at 0; the +Inf bucket answers the highest finite bound
    assert bucket_quantile(0.5, {0.01: 10.0, math.inf: 10.0}) == pytest.approx(0.005)
    assert bucket_quantile(0.5, {0.1: 1.0, math.inf: 10.0}) == pytest.approx(0.1)
    assert bucket_quantile(0.5, {0.1: 0.0, math.inf: 0.0}) is None
    assert bucket_quantile(0.5, {0.1: 3.0}) is None  # no +Inf: not a histogram


def test_latency_is_over_the_interval_not_since_the_proxy_started() -> None:
    # 1000 fast requests before; in the interval 10 more, all between 50 and 100 ms
    before = read(exposition(buckets={(VEHICLE, "legacy"): (1000, 1000, 1000, 1000)}), at=1.0)
    now = read(exposition(buckets={(VEHICLE, "legacy"): (1000, 1000, 1010, 1010)}), at=2.0)
    (row,) = top_view([(before, now)]).operations
    # rank 5 of 10 in (0.05, 0.1]: 0.05 + 0.05 * 5/10; rank 9.9: 0.05 + 0.05 * 9.9/10
    assert row.p50 == pytest.approx(0.075)
    assert row.p99 == pytest.approx(0.0995)


def test_two_proxies_are_summed_and_a_disagreement_on_the_mode_is_said() -> None:
    a0 = read(exposition(requests={(VEHICLE, "legacy", "forwarded"): 100},
                         buckets={(VEHICLE, "legacy"): (0, 0, 0, 0)}, modes={VEHICLE: "legacy"}), 50.0, "http://a")
    a1 = read(exposition(requests={(VEHICLE, "legacy", "forwarded"): 110},
                         buckets={(VEHICLE, "legacy"): (10, 10, 10, 10)}, modes={VEHICLE: "legacy"}), 52.0, "http://a")
    b0 = read(exposition(requests={(VEHICLE, "legacy", "forwarded"): 3}, modes={VEHICLE: "legacy"},
                         version=4), 50.5, "http://b")
    b1 = read(exposition(requests={(VEHICLE, "legacy", "forwarded"): 3, (VEHICLE, "translator", "translated"): 30},
                         buckets={(VEHICLE, "translator"): (0, 30, 30, 30)}, modes={VEHICLE: "translator"},
                         version=5, queues={"shadow": 2, "recording": 1}), 51.5, "http://b")
    view = top_view([(a0, a1), (b0, b1)])
    (row,) = view.operations
    assert row.modes == {"legacy": 1, "translator": 1} and not row.agreed
    assert row.mode_text() == "legacy 1/2, translator 1/2"
    assert row.requests == 10 + 30
    assert row.rate == pytest.approx(10 / 2 + 30 / 1)  # each proxy over its own interval
    assert row.requests_total == 110 + 33
    # 40 in the interval: 10 in [0, 0.01], 30 in (0.01, 0.05]; rank 20: 0.01 + 0.04 * 10/30
    assert row.p50 == pytest.approx(0.01 + 0.04 / 3)
    assert [line.url for line in view.proxies] == ["http://a", "http://b"]
    assert view.proxies[1].table_version == 5 and view.proxies[1].queues == {"shadow": 2, "recording": 1}
    assert [line.requests_total for line in view.proxies] == [110, 33]


def test_buckets_of_different_layouts_merge_without_overcounting() -> None:
    merged = merge_buckets([{0.01: 1, 0.1: 3, math.inf: 3}, {0.05: 2, math.inf: 4}])
    assert merged == {0.01: 1, 0.05: 1 + 2, 0.1: 3 + 2, math.inf: 3 + 4}


def test_an_unreachable_proxy_stays_in_the_view_and_adds_only_its_line() -> None:
    good0 = read(exposition(requests={(VEHICLE, "legacy", "forwarded"): 1}, modes={VEHICLE: "legacy"}), 1.0)
    good1 = read(exposition(requests={(VEHICLE, "legacy", "forwarded"): 5}, modes={VEHICLE: "legacy"}), 2.0)
    gone = scrape(f"127.0.0.1:{free_port()}", timeout=2)  # nothing listens there
    assert gone.error is not None and not gone.reachable
    back = read(exposition(requests={(PERSON, "legacy", "forwarded"): 9}), 2.0, "http://c")
    view = top_view([(good0, good1), (None, gone), (gone, back)])
    assert [line.reachable for line in view.proxies] == [True, False, True]
    assert view.proxies[1].error == gone.error
    assert view.proxies[2].interval is None  # its previous scrape failed: no interval from it yet
    rows = {row.operation: row for row in view.operations}
    assert rows[VEHICLE].requests == 4 and rows[VEHICLE].mode_text() == "legacy"
    assert rows[PERSON].requests == 0 and rows[PERSON].requests_total == 9
    assert rows[PERSON].mode_text() == "?"  # that proxy reports no route modes


def test_an_operation_the_table_does_not_name_is_legacy_where_modes_are_reported() -> None:
    before = read(exposition(requests={(PERSON, "legacy", "forwarded"): 1}, modes={VEHICLE: "shadow"}), 1.0)
    now = read(exposition(requests={(PERSON, "legacy", "forwarded"): 2}, modes={VEHICLE: "shadow"}), 2.0)
    rows = {row.operation: row.mode_text() for row in top_view([(before, now)]).operations}
    assert rows == {PERSON: "legacy", VEHICLE: "shadow"}
    empty_table = read(exposition(requests={(PERSON, "legacy", "forwarded"): 2}, modes={}), 2.0)
    assert [row.mode_text() for row in top_view([(None, empty_table)]).operations] == ["legacy"]


def test_a_lower_route_table_version_means_the_proxy_restarted() -> None:
    before = read(exposition(requests={(VEHICLE, "legacy", "forwarded"): 5}, version=3), at=1.0)
    now = read(exposition(requests={(VEHICLE, "legacy", "forwarded"): 9}, version=1), at=2.0)
    view = top_view([(before, now)])
    assert view.proxies[0].restarted and view.operations[0].requests == 9


@pytest.mark.parametrize("body", [
    "turnout_requests_total{operation=\"x\" 1\n",
    "turnout_ready one\n",
    "\x00\x01\x02",
])
def test_a_body_that_does_not_parse_is_an_unreachable_scrape_not_an_exception(body: str) -> None:
    scraped = read_exposition(body, "http://a", 1.0)
    assert scraped.error is not None and "did not parse" in scraped.error
    (line,) = top_view([(None, scraped)]).proxies
    assert not line.reachable


# -- over HTTP ---------------------------------------------------------------------------------


class FakeMetrics:
    """What a real HTTP server's `/metrics` answers: `status` and `body`, set by the test."""

    def __init__(self) -> None:
        self.url = ""
        self.status, self.body = 200, b""
        self.hits = 0


@pytest.fixture
def metrics_server() -> Iterator[FakeMetrics]:
    fake = FakeMetrics()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            fake.hits += 1
            status, body = (fake.status, fake.body) if self.path == "/metrics" else (404, b"")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def test_scrape_reads_a_real_endpoint_and_says_why_when_it_cannot(
        metrics_server: FakeMetrics) -> None:
    fake = metrics_server
    url = fake.url
    fake.status, fake.body = (200, exposition(requests={(VEHICLE, "shadow", "forwarded"): 3}, ready=0).encode())
    got = scrape(url)
    assert got.reachable and got.requests == {(VEHICLE, "shadow", "forwarded"): 3} and got.ready is False
    fake.status, fake.body = (500, b"boom")
    assert scrape(url + "/").error == "HTTP 500 Internal Server Error"
    fake.status, fake.body = (200, b"turnout_ready{\n")
    assert "did not parse" in (scrape(url).error or "")


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def top_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TURNOUT, "top", *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def test_top_once_json_exits_1_when_no_proxy_answers_and_still_lists_it() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = top_cli(url, "--once", "--json", "--interval", "0.1")
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert [(p["url"], p["reachable"]) for p in doc["proxies"]] == [(url, False)]
    assert doc["operations"] == []


def test_top_json_without_once_is_refused() -> None:
    done = top_cli("http://127.0.0.1:1", "--json")
    assert done.returncode == 2 and "--json needs --once" in done.stderr


def test_top_once_plain_table_shows_the_numbers(metrics_server: FakeMetrics) -> None:
    fake = metrics_server
    url = fake.url
    fake.status, fake.body = (200, exposition(requests={(VEHICLE, "translator", "translated"): 12},
                                     modes={VEHICLE: "translator"}, version=3).encode())
    done = top_cli(url, "--once", "--interval", "0.2")
    assert done.returncode == 0, done.stderr
    assert url in done.stdout and "routes v3" in done.stdout and "ready" in done.stdout
    row = next(line for line in done.stdout.splitlines() if VEHICLE in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    # no increase between the two scrapes: 0 requests per second, no latency, no error now
    assert cells == [VEHICLE, "translator", "0.0", "-", "-", "0/0", "0/0", "-"]


# -- through real proxies: two of them, one route file, a switch -------------------------------

VEHICLE_ENVELOPE = (
    b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
    b'<p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"><p:registrationMark>TB19 XKF</p:registrationMark>'
    b"</p:VehicleEnquiry></e:Body></e:Envelope>"
)
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'}


class Traffic:
    """VehicleEnquiry sent through each proxy in turn from a thread, counted per proxy."""

    def __init__(self, proxies: list[ProxyProcess]) -> None:
        self.proxies = proxies
        self.sent = [0] * len(proxies)
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, rounds: int) -> None:
        for _ in range(rounds):
            for i in range(len(self.proxies)):
                self._one(i)

    def _one(self, i: int) -> None:
        status, _, body = self.proxies[i].request("POST", "/pnc", VEHICLE_ENVELOPE, SOAP_HEADERS)
        self.sent[i] += 1
        if status != 200 or b"VehicleEnquiryResponse" not in body:
            self.failed.append(f"{self.proxies[i].url}: {status} {body[:200]!r}")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.send(1)
            time.sleep(0.01)

    def __enter__(self) -> Traffic:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(30)


def admin_of(proxy: ProxyProcess) -> str:
    """The admin URL the proxy logged (admin.port 0: each proxy picks a free port)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if found := re.search(r"admin endpoint on (http://[0-9.:]+)", proxy.log):
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no admin endpoint logged:\n{proxy.log}")


def served_mode(admin: str, operation: str) -> str:
    with urllib.request.urlopen(f"{admin}/routes", timeout=3) as reply:
        rows = {row["operation"]: row["mode"] for row in json.load(reply)["routes"]}
    return str(rows.get(operation, "legacy"))


def top_json(*admins: str, interval: float = 0.5) -> dict[str, Any]:
    done = top_cli(*admins, "--once", "--json", "--interval", str(interval))
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads(done.stdout))


@pytest.fixture
def two_proxies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[ProxyProcess]]]:
    """Two `turnout proxy` processes on one turnout.yaml (the demo's, open: no identity), in
    front of the demo bus and the modern services over one store, each admin on a free port."""
    # `turnout -v proxy`: the admin endpoint's address is logged at info level
    monkeypatch.setattr(proxy_process, "TURNOUT", [*TURNOUT, "-v"])
    store = DemoStore()
    with ServerThread(make_legacy_app(store)) as bus, ServerThread(make_modern_app(store)) as services:
        config = write_demo_config(tmp_path, bus.url, services.url, tmp_path / "rec", authenticate=False)
        proxies = [ProxyProcess(config), ProxyProcess(config)]
        try:
            for proxy in proxies:
                proxy.start()
            yield config, proxies
        finally:
            for proxy in proxies:
                proxy.stop()


def test_top_shows_a_switch_on_both_proxies_with_both_counted(
        two_proxies: tuple[Path, list[ProxyProcess]]) -> None:
    config, proxies = two_proxies
    admins = [admin_of(proxy) for proxy in proxies]
    traffic = Traffic(proxies)
    traffic.send(3)

    with traffic:
        before = top_json(*admins)
    (row,) = [r for r in before["operations"] if r["operation"] == VEHICLE]
    assert row["modes"] == {"legacy": 2} and row["mode"] == "legacy"
    assert row["rate"] > 0 and row["requests"] > 0
    assert row["p50"] is not None and row["p50"] <= row["p99"]

    set_route(config, VEHICLE, "translator")  # the one route file both proxies watch
    deadline = time.monotonic() + 10
    while not all(served_mode(a, VEHICLE) == "translator" for a in admins):
        assert time.monotonic() < deadline, "the proxies did not take the switch"
        time.sleep(0.1)

    with traffic:
        after = top_json(*admins)
    (row,) = [r for r in after["operations"] if r["operation"] == VEHICLE]
    assert row["modes"] == {"translator": 2} and row["mode"] == "translator"
    assert row["rate"] > 0 and row["requests"] > 0
    assert row["p50"] is not None and row["p99"] is not None
    assert all(p["reachable"] and p["table_version"] >= 2 for p in after["proxies"])
    assert traffic.failed == []

    # quiet now: the totals are every request sent, each proxy's its own; nothing in the interval
    idle = top_json(*admins, interval=0.3)
    (row,) = [r for r in idle["operations"] if r["operation"] == VEHICLE]
    assert row["requests_total"] == sum(traffic.sent)
    assert [p["requests_total"] for p in idle["proxies"]] == traffic.sent
    assert row["rate"] == 0 and row["p50"] is None
    assert row["errors_total"] == 0 and row["fallbacks_total"] == 0


def test_top_finds_the_proxy_from_the_configs_admin_port(
        metrics_server: FakeMetrics, tmp_path: Path) -> None:
    fake = metrics_server
    url = fake.url
    port = url.rsplit(":", 1)[1]
    fake.status, fake.body = (200, exposition(requests={(PERSON, "legacy", "forwarded"): 4}, modes={}).encode())
    (tmp_path / "turnout.yaml").write_text(f"upstream: http://127.0.0.1:1\nadmin: {{port: {port}}}\n")
    doc = json.loads(top_cli("--once", "--json", "--interval", "0.1", cwd=tmp_path).stdout)
    assert [p["url"] for p in doc["proxies"]] == [f"http://127.0.0.1:{port}"]
    assert [(r["operation"], r["mode"], r["requests_total"]) for r in doc["operations"]] == [(PERSON, "legacy", 4)]
    (tmp_path / "turnout.yaml").write_text("upstream: http://127.0.0.1:1\n")
    done = top_cli("--once", cwd=tmp_path)
    assert done.returncode == 2 and "no fixed admin port" in done.stderr


def test_the_live_view_survives_bad_scrapes_and_stops_cleanly_on_ctrl_c(
        metrics_server: FakeMetrics) -> None:
    fake = metrics_server
    url = fake.url
    fake.status, fake.body = (200, exposition(requests={(VEHICLE, "legacy", "forwarded"): 1}).encode())
    watching = subprocess.Popen([*TURNOUT, "top", url, "--interval", "0.1"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: fake.hits >= 3)  # a few good scrapes
        fake.body = b"turnout_requests_total{operation=\n"
        seen = fake.hits
        assert wait_for(lambda: fake.hits >= seen + 3)  # a few that do not parse: still running
        assert watching.poll() is None
        watching.send_signal(signal.SIGINT)
        out, err = watching.communicate(timeout=20)
    finally:
        if watching.poll() is None:
            watching.kill()
    assert watching.returncode == 0, err
    assert "unreachable" in out and "did not parse" in out  # the last frame drawn
