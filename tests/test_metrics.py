"""`/metrics` on the admin port, black-box: a real proxy in front of the real demo bus and modern
services, real zeep clients, and the exposition read back with prometheus-client's own parser.

Counters and histograms must move for each mode and outcome that went through (legacy,
translator, shadow with its comparison, fallback, refused), and the number of series must stay
bounded however many distinct paths and invented operations clients send.
"""

from __future__ import annotations

import http.client
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from turnout.config import YamlEditor, load_proxy_config
from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from turnout.demo.config import write_demo_config
from turnout.gateway._metrics import MAX_OTHER_OPERATIONS
from turnout.proxy import ProxyThread
from turnout.routing import set_route

from .support.bus import Reply, ScriptedBus
from .test_proxy_demo import call, clients

VEHICLE, PERSON, LOCATION = "/pnc VehicleEnquiry", "/pnc PersonEnquiry", "/geo ResolveLocation"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def scrape(admin: str, accept: str = "text/plain") -> str:
    request = urllib.request.Request(f"{admin}/metrics", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return str(reply.read().decode())


def samples(admin: str) -> list[Sample]:
    return [s for family in text_string_to_metric_families(scrape(admin)) for s in family.samples]


def value(found: list[Sample], name: str, **labels: str) -> float:
    """The sum over every sample of `name` whose labels include `labels` (0 when none)."""
    return sum(s.value for s in found if s.name == name and labels.items() <= s.labels.items())


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[ProxyThread]:
    """The demo bus and services over one store; VehicleEnquiry on its translator, PersonEnquiry
    shadowed, ResolveLocation on a translator whose service is unreachable (so it falls back
    to the bus), the rest legacy; the proxy with its admin port."""
    store = DemoStore()
    with ServerThread(make_legacy_app(store)) as bus, ServerThread(make_modern_app(store)) as services:
        path = write_demo_config(tmp_path, bus.url, services.url, tmp_path / "rec", authenticate=False)
        editor = YamlEditor(path.read_text(encoding="utf-8"))
        editor.doc["services"]["geo"] = "http://127.0.0.1:1"  # nothing listens: a fallback
        path.write_text(editor.text(), encoding="utf-8")
        set_route(path, VEHICLE, "translator")
        set_route(path, PERSON, "shadow")
        set_route(path, LOCATION, "translator")
        with ProxyThread(load_proxy_config(path)) as proxy:
            yield proxy


def test_each_mode_and_outcome_moves_its_counters_and_histograms(demo: ProxyThread) -> None:
    admin = demo.state.admin_url
    assert admin is not None
    with requests.Session() as session:
        through = clients(demo.url, session)
        for _ in range(3):
            assert call(through["/pnc"], "VehicleEnquiry", {"registrationMark": "TB19 XKF"}).status_code == 200
        for _ in range(2):
            assert call(through["/pnc"], "PersonEnquiry", {"surname": "Thistlewood"}).status_code == 200
        assert call(through["/geo"], "ResolveLocation", {"postcode": "TB1 4LX"}).status_code == 200
        assert call(through["/cris"], "GetCrimeReport", {"crimeReference": "CR/2026/000104"}).status_code == 200
    # a DTD is a threat: refused by the proxy itself, never forwarded
    hostile = (f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><s:Envelope xmlns:s="{SOAP11}">'
               '<s:Body><p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"/></s:Body></s:Envelope>').encode()
    refused = requests.post(f"{demo.url}/pnc", data=hostile, headers={"Content-Type": "text/xml"}, timeout=10)
    assert refused.status_code == 500

    # the shadows are compared off the client's path: wait for both comparisons
    deadline = time.monotonic() + 30
    found = samples(admin)
    while value(found, "turnout_shadow_comparisons_total", operation=PERSON) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        found = samples(admin)

    requests_total = "turnout_requests_total"
    assert value(found, requests_total, operation=VEHICLE, mode="translator", outcome="translated") == 3
    assert value(found, requests_total, operation=PERSON, mode="shadow", outcome="forwarded") == 2
    assert value(found, requests_total, operation=LOCATION, mode="translator", outcome="fallback") == 1
    assert value(found, requests_total, operation="/cris GetCrimeReport", mode="legacy", outcome="forwarded") == 1
    assert value(found, requests_total, outcome="rejected") == 1
    # zeep's WSDL downloads are counted too, as requests that name no operation
    assert value(found, requests_total, operation="none", outcome="passthrough") >= 4

    assert value(found, "turnout_request_duration_seconds_count", operation=VEHICLE, mode="translator") == 3
    assert value(found, "turnout_request_duration_seconds_sum", operation=VEHICLE, mode="translator") > 0
    assert value(found, "turnout_service_duration_seconds_count", operation=VEHICLE) == 3
    assert value(found, "turnout_bus_duration_seconds_count", operation=VEHICLE) == 0  # the bus never saw it
    assert value(found, "turnout_bus_duration_seconds_count", operation=PERSON) == 2
    assert value(found, "turnout_own_duration_seconds_count", operation=PERSON, mode="shadow") == 2
    # the fallback waited on both: the service that failed, then the bus
    assert value(found, "turnout_bus_duration_seconds_count", operation=LOCATION) == 1
    assert value(found, "turnout_service_duration_seconds_count", operation=LOCATION) == 1
    # Turnout's own share is the whole less what it waited on
    own = value(found, "turnout_own_duration_seconds_sum", operation=VEHICLE)
    whole = value(found, "turnout_request_duration_seconds_sum", operation=VEHICLE)
    service = value(found, "turnout_service_duration_seconds_sum", operation=VEHICLE)
    assert 0 < own < whole and own == pytest.approx(whole - service, rel=0.05, abs=1e-4)

    fallbacks = [s for s in found if s.name == "turnout_fallbacks_total" and s.labels["operation"] == LOCATION]
    assert [s.value for s in fallbacks] == [1] and fallbacks[0].labels["reason"].startswith("service")
    assert value(found, "turnout_shadow_comparisons_total", operation=PERSON) == 2
    assert value(found, "turnout_shadow_comparisons_total", operation=PERSON, result="failed") == 0

    assert value(found, "turnout_route_mode", operation=VEHICLE, mode="translator") == 1
    assert value(found, "turnout_route_mode", operation=PERSON, mode="shadow") == 1
    assert value(found, "turnout_translator_info", operation=VEHICLE) == 1
    assert value(found, "turnout_route_table_version") == 1
    assert value(found, "turnout_queue_items", queue="shadow") >= 0
    assert {s.labels["queue"] for s in found if s.name == "turnout_queue_items"} >= {"recording", "shadow"}
    assert value(found, "turnout_ready") == 1
    info = [s for s in found if s.name == "turnout_build_info"]
    assert len(info) == 1 and info[0].labels["engine"] == demo.engine


def test_openmetrics_exposition_carries_the_request_id_as_exemplar(demo: ProxyThread) -> None:
    admin = demo.state.admin_url
    assert admin is not None
    with requests.Session() as session:
        answer = call(clients(demo.url, session)["/pnc"], "VehicleEnquiry", {"registrationMark": "TB19 XKF"})
    assert answer.status_code == 200
    sent = "probe-7f3a"
    reply = requests.post(f"{demo.url}/pnc", data=answer.request.body, timeout=10,
                          headers={**answer.request.headers, "X-Request-Id": sent})
    assert reply.status_code == 200
    text = scrape(admin, "application/openmetrics-text; version=1.0.0")
    assert text.rstrip().endswith("# EOF")
    buckets = [line for line in text.splitlines()
               if line.startswith("turnout_request_duration_seconds_bucket") and VEHICLE in line]
    assert any(f'request_id="{sent}"' in line for line in buckets), buckets
    assert "# {" not in scrape(admin)  # the classic text format has no exemplars


@pytest.mark.engine("fast", reason="labels are chosen by the gateway, after either host has read the "
                                    "request; 10,000 requests once is enough to show the bound")
def test_distinct_paths_and_invented_operations_leave_the_series_bounded(tmp_path: Path) -> None:
    """10,000 requests, each on its own path and naming its own invented operation: the
    operation label takes the first MAX_OTHER_OPERATIONS names, then "other"; no path is ever a label."""
    with ScriptedBus() as bus:
        bus.reply = Reply(body=f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><ok/></s:Body></s:Envelope>'.encode())
        config = tmp_path / "turnout.yaml"
        config.write_text(f"upstream: {bus.url}\nlisten: {{port: 0}}\nadmin: {{port: 0}}\n"
                          "routes:\n  /pnc VehicleEnquiry: {mode: legacy}\n", encoding="utf-8")
        with ProxyThread(load_proxy_config(config)) as proxy:
            admin = proxy.state.admin_url
            assert admin is not None
            before = len(samples(admin))
            connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
            for n in range(10_000):
                body = (f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><x:Invented{n} xmlns:x="urn:x">'
                        f"<x:v>{n}</x:v></x:Invented{n}></s:Body></s:Envelope>").encode()
                connection.request("POST", f"/svc/{n}/item-{n}", body, {"Content-Type": "text/xml"})
                reply = connection.getresponse()
                reply.read()
                assert reply.status == 200
            connection.close()
            found = samples(admin)
    operations = {s.labels["operation"] for s in found if "operation" in s.labels}
    assert "other" in operations
    assert len(operations - {"/pnc VehicleEnquiry"}) <= MAX_OTHER_OPERATIONS + 2  # + "other", "none"
    assert not any("/svc/" in label for s in found for label in s.labels.values())
    assert value(found, "turnout_requests_total") == 10_000
    # every series there is, whatever the traffic: a fixed bound
    assert len(found) < before + (MAX_OTHER_OPERATIONS + 2) * 70, (before, len(found))
