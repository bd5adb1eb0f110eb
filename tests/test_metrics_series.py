"""`GatewayMetrics` resolves each (operation, mode, outcome) once per route table: these check
that the shortcut never changes what is counted. A swapped-in table relabels at once, a full
cache still counts right, and requests that name no operation are "none". In process and
fast; tests/test_metrics.py checks the same counts black-box through a proxy's /metrics."""

from __future__ import annotations

import pytest

from turnout.gateway import GatewayMetrics, Mode, Outcome, RequestNote, _metrics, inspect_request
from turnout.routing import Route, RouteHolder, RouteTable
from turnout.soap import DEFAULT_LIMITS, HttpRequest

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def note(path: str, name: str, mode: Mode = Mode.LEGACY, outcome: Outcome = Outcome.FORWARDED,
         bus_ms: float | None = 2.0) -> RequestNote:
    body = (f'<s:Envelope xmlns:s="{SOAP11}"><s:Body><x:{name} xmlns:x="urn:x"/></s:Body>'
            "</s:Envelope>").encode()
    request = HttpRequest("POST", path, [("Content-Type", "text/xml; charset=utf-8")], body)
    inspection = inspect_request(request, DEFAULT_LIMITS)
    assert inspection.operation is not None and inspection.operation.key == f"{path} {name}"
    return RequestNote(inspection, request, route=mode, outcome=outcome, upstream_ms=bus_ms)


def test_a_swapped_in_table_relabels_the_next_request() -> None:
    holder = RouteHolder(RouteTable([Route("/pnc PersonEnquiry")]))
    metrics = GatewayMetrics(holder)
    metrics.observe(note("/cris", "CreateCrimeReport"))  # a service the table does not name
    metrics.observe(note("/pnc", "VehicleEnquiry"))  # its service is named: its own key
    holder.swap(RouteTable([Route("/pnc PersonEnquiry"), Route("/cris CreateCrimeReport")]))
    metrics.observe(note("/cris", "CreateCrimeReport"))
    metrics.observe(note("/cris", "CreateCrimeReport", Mode.TRANSLATOR, Outcome.TRANSLATED, None))
    snap = metrics.snapshot()
    assert snap.requests == {
        ("* CreateCrimeReport", "legacy", "forwarded"): 1,
        ("/pnc VehicleEnquiry", "legacy", "forwarded"): 1,
        ("/cris CreateCrimeReport", "legacy", "forwarded"): 1,
        ("/cris CreateCrimeReport", "translator", "translated"): 1,
    }
    assert all(type(part) is str for key in snap.requests for part in key)  # words, not enums
    assert set(snap.bus) == {"* CreateCrimeReport", "/pnc VehicleEnquiry", "/cris CreateCrimeReport"}
    assert sum(snap.bus["/cris CreateCrimeReport"].counts) == 1  # the translated one had no bus
    assert sum(snap.duration["/cris CreateCrimeReport", "translator"].counts) == 1
    exemplars = [e for e in snap.duration["/cris CreateCrimeReport", "translator"].exemplars or [] if e]
    assert len(exemplars) == 1 and exemplars[0].request_id  # an Exemplar again at scrape time


def test_past_the_cache_bound_every_request_is_still_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_metrics, "_MAX_SERIES", 3)
    metrics = GatewayMetrics(RouteHolder(RouteTable([Route("/pnc VehicleEnquiry")])))
    for n in range(10):
        metrics.observe(note("/pnc", "VehicleEnquiry"))
        metrics.observe(note(f"/svc{n}", f"Invented{n}"))
        metrics.observe(note("/pnc", "VehicleEnquiry", Mode.TRANSLATOR, Outcome.FALLBACK))
    snap = metrics.snapshot()
    assert len(metrics._series) == 3
    assert snap.requests[("/pnc VehicleEnquiry", "legacy", "forwarded")] == 10
    assert snap.requests[("/pnc VehicleEnquiry", "translator", "fallback")] == 10
    assert sum(n for (label, _, _), n in snap.requests.items() if label.startswith("* Invented")) == 10
    assert snap.fallbacks == {("/pnc VehicleEnquiry", "unknown"): 10}


def test_a_request_naming_no_operation_is_none() -> None:
    metrics = GatewayMetrics(RouteHolder())
    request = HttpRequest("GET", "/pnc?wsdl", [], b"")
    inspection = inspect_request(request, DEFAULT_LIMITS)
    assert inspection.operation is None
    for _ in range(2):
        metrics.observe(RequestNote(inspection, request, outcome=Outcome.PASSTHROUGH, upstream_ms=1.0))
    assert metrics.snapshot().requests == {("none", "legacy", "passthrough"): 2}
