"""A real Prometheus scraping a real `turnout proxy` process, and the Grafana dashboard checked
against what the proxy really exposes.

Prometheus is Debian's package (`/usr/bin/prometheus`; .ci/run installs it): without it the
scrape test skips, except under CI=true, where it fails. The dashboard's metric names are
checked against a live exposition in any case; its queries are checked as PromQL by sending
each to the real Prometheus (a parse error comes back as `status: error`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from turnout.demo import DemoStore, ServerThread, make_legacy_app

from .interop.conftest import under_ci
from .support.proxy_process import ProxyProcess, free_port

REPO = Path(__file__).resolve().parent.parent
DASHBOARD = REPO / "deploy" / "grafana" / "turnout-dashboard.json"
VEHICLE = "/pnc VehicleEnquiry"
ENVELOPE = (
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
    b'<p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"><p:registrationMark>TB19 XKF</p:registrationMark>'
    b"</p:VehicleEnquiry></s:Body></s:Envelope>"
)
SENT = 40
#: Grafana's variables, as a query would have them filled in
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$instance": ".*"}


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        if under_ci():
            pytest.fail("prometheus is not installed: CI must have it (.ci/run installs Debian's)")
        pytest.skip("prometheus is not installed")
    return found


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return dict(json.loads(reply.read()))


def query(base: str, promql: str) -> dict[str, Any]:
    try:
        return get_json(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    except urllib.error.HTTPError as error:  # 400 for a query that does not parse
        return dict(json.loads(error.read()))


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def filled(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def exposed_names(text: str) -> set[str]:
    """Every series name the exposition can hold, from its families (a family with no samples
    yet, such as fallbacks before the first fallback, still counts): a counter's `_total`, a
    histogram's `_bucket`, `_sum` and `_count`, a gauge's own name."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names |= {sample.name for sample in family.samples}
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names |= {family.name + suffix for suffix in ("_bucket", "_sum", "_count")}
        else:
            names.add(family.name)
    return names


@dataclass
class Running:
    proxy: ProxyProcess
    admin: str


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Running]:
    """`turnout proxy` in its own process before the demo bus, with an admin port."""
    admin = free_port()
    with ServerThread(make_legacy_app(DemoStore())) as bus:
        config = tmp_path / "turnout.yaml"
        config.write_text(f"upstream: {bus.url}\nadmin: {{port: {admin}}}\n"
                          f"routes:\n  {VEHICLE}: {{mode: legacy}}\n", encoding="utf-8")
        with ProxyProcess(config) as process:
            running = Running(process, f"http://127.0.0.1:{admin}")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(f"{running.admin}/healthz", timeout=2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            yield running


@pytest.fixture
def prometheus(tmp_path: Path, proxy: Running) -> Iterator[str]:
    binary = prometheus_binary()
    port = free_port()
    target = proxy.admin.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: turnout\n    static_configs: [{{targets: ['{target}']}}]\n",
        encoding="utf-8",
    )
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "prometheus.log").read_text()
            try:
                urllib.request.urlopen(f"{base}/-/ready", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_for(base: str, promql: str, expected: float, seconds: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while True:
        answer = query(base, promql)
        result = answer.get("data", {}).get("result", [])
        if result and float(result[0]["value"][1]) == expected or time.monotonic() > deadline:
            return list(result)
        time.sleep(0.5)


def quantile_of(buckets: list[tuple[float, float]], q: float) -> float:
    """Prometheus's histogram_quantile over cumulative (upper bound, count) pairs, +Inf last."""
    total = buckets[-1][1]
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    return lower


def test_prometheus_scrapes_the_proxy_and_sees_what_was_sent(proxy: Running, prometheus: str) -> None:
    for _ in range(SENT):
        status, _, _ = proxy.proxy.request("POST", "/pnc", ENVELOPE, {
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'})
        assert status == 200
    up = wait_for(prometheus, 'up{job="turnout"}', 1)
    assert up and up[0]["value"][1] == "1", get_json(f"{prometheus}/api/v1/targets")

    requests_total = f'sum(turnout_requests_total{{operation="{VEHICLE}", mode="legacy", outcome="forwarded"}})'
    got = wait_for(prometheus, requests_total, SENT)
    assert got and float(got[0]["value"][1]) == SENT, got
    count = wait_for(prometheus, "sum(turnout_request_duration_seconds_count)", SENT)
    assert float(count[0]["value"][1]) == SENT

    # the median Prometheus computes is the one the proxy's own buckets give
    with urllib.request.urlopen(f"{proxy.admin}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    buckets = sorted(
        (float(s.labels["le"]), s.value)
        for family in text_string_to_metric_families(text) for s in family.samples
        if s.name == "turnout_request_duration_seconds_bucket" and s.labels["operation"] == VEHICLE
    )
    median = query(prometheus, f'histogram_quantile(0.5, sum by (le) '
                               f'(turnout_request_duration_seconds_bucket{{operation="{VEHICLE}"}}))')
    assert median["status"] == "success", median
    assert float(median["data"]["result"][0]["value"][1]) == pytest.approx(quantile_of(buckets, 0.5))
    ready = query(prometheus, "turnout_ready")
    assert ready["data"]["result"][0]["value"][1] == "1"

    # every query of the dashboard is PromQL this Prometheus accepts
    for expr in dashboard_exprs():
        answer = query(prometheus, filled(expr))
        assert answer["status"] == "success", (expr, answer)


def test_the_dashboard_names_only_metrics_the_proxy_exposes(proxy: Running) -> None:
    with urllib.request.urlopen(f"{proxy.admin}/metrics", timeout=10) as reply:
        names = exposed_names(reply.read().decode())
    exprs = dashboard_exprs()
    assert len(exprs) >= 10
    used = {name for expr in exprs for name in re.findall(r"\bturnout_[a-z_]+\b", expr)}
    assert used and not (used - names), sorted(used - names)
    # and the panels the issue asks for are there
    titles = " | ".join(p["title"] for p in json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]).lower()
    for wanted in ("request rate", "error rate", "p99", "own share", "fallbacks", "parity", "queue", "route table"):
        assert wanted in titles, wanted
