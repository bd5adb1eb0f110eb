"""A spyne service of our own, translated by mapping files alone, at 100% parity.

The legacy side is a real spyne SOAP 1.1 service (spyne_safeguarding/service.py, waitress, its
own process): a record with a risk level enumeration in an attribute, an xs:dateTime, a field
spyne leaves out and one it writes as `xsi:nil`, linked references in spyne's `stringArray`
wrapper, a search answering an array of records, a header echoed from the request (and no Header
when the request has none to echo), and Faults
with spyne's QName codes (`soap11env:Client.RecordNotFound`, with a detail in no namespace;
`Client.ValidationError` for a blank surname) and no Header.

The modern side is spyne_safeguarding/modern.py, a Starlette app that **stands in for the
modern JSON service**: the same records with no SOAP left in them (`linkedRefs: [..]`,
`created` in `Z` with milliseconds, `risk: "high"`).

Between them, spyne_safeguarding/translators/ holds the translator: YAML mapping files, no
Python. zeep (a real client, reading spyne's WSDL) sends the same requests, each with a
RequestHeader but the last, to spyne directly and through a real `turnout proxy` process (each
host):

- in `shadow` mode the client gets spyne's answers and every exchange is compared, equal: in
  the recordings, in the admin `/metrics` and in `turnout compare` over the recordings;
- in `translator` mode (`on_error: fault`, so a failing translator cannot hide behind spyne)
  the client gets, from the modern service by way of the mapping, envelopes the compare
  package finds identical to spyne's (`exact`: nothing disregarded), Fault detail included.

Nothing is volatile in these answers, so no ignore rule is needed. One thing compare never
weighs is not reproduced: the empty `<faultactor/>` spyne writes in every Fault (a mapping
cannot write a faultactor; compare reads a Fault's code, reason and, when asked, detail).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import zeep
import zeep.exceptions
import zeep.helpers
from lxml import etree
from prometheus_client.parser import text_string_to_metric_families

from turnout.compare import Rules, diff, shadow_readiness
from turnout.recording import Exchange, RecordingStore
from turnout.soap import parse_xml

from .clients import CapturingTransport
from .conftest import REPO, Proxy, Server, UvicornThread, serve, start_proxy, turnout_command
from .spyne_safeguarding.data import MISSING, SERVICE_PATH
from .spyne_safeguarding.modern import make_app

pytestmark = pytest.mark.interop

TRANSLATORS = Path(__file__).parent / "spyne_safeguarding" / "translators"
#: no ignore rules; a Fault's detail compared too (the proxy's shadow diffs and turnout compare)
COMPARE_RULES = Path(__file__).parent / "spyne_safeguarding" / "compare.yaml"
GET, SEARCH = f"{SERVICE_PATH} GetRecord", f"{SERVICE_PATH} SearchRecords"
OPERATIONS = (GET, SEARCH)


@dataclass(frozen=True)
class Call:
    operation: str
    arguments: dict[str, str]
    #: whether the translator calls the modern service (a blank surname is refused before)
    calls_service: bool = True
    #: whether zeep sends a RequestHeader (without one, spyne answers with no Header)
    header: bool = True

    @property
    def name(self) -> str:
        return self.operation.split()[-1]


CALLS = (
    Call(GET, {"recordId": "SG-1001"}),        # every field, two linked references
    Call(GET, {"recordId": "SG-1002"}),        # forenames left out, xsi:nil, [] wrapper, .25 s
    Call(GET, {"recordId": "SG-1003"}),        # no linkedRefs wrapper, text needing escapes
    Call(GET, {"recordId": MISSING}),          # Client.RecordNotFound with a detail, no Header
    Call(SEARCH, {"surname": "Adebayo"}),      # two records
    Call(SEARCH, {"surname": "Nobody"}),       # an empty wrapper
    Call(SEARCH, {"surname": " "}, calls_service=False),  # Client.ValidationError, from the mapping
    Call(GET, {"recordId": "SG-1003"}, header=False),  # no header to echo: no Header at all
)


@dataclass
class Answer:
    """What zeep made of one answer, and the HTTP answer it made it of."""

    value: Any
    status: int | None
    body: bytes


def _detail(detail: etree._Element | None) -> Any:
    if detail is None:
        return None
    return [(child.tag, [(leaf.tag, leaf.text) for leaf in child]) for child in detail]


def _fault_code(body: bytes) -> str:
    """The faultcode as the QName it names, `{namespace}local`: spyne writes it with its envelope
    prefix `soap11env:`, Turnout with its own `soap:`, and both bind the SOAP 1.1 namespace."""
    [code] = parse_xml(body).iter("faultcode")
    prefix, _, local = (code.text or "").rpartition(":")
    return f"{{{code.nsmap[prefix or None]}}}{local}"


def _ask(service: Any, transport: CapturingTransport, call: Call, number: int) -> Answer:
    transport.last = None
    header = {"_soapheaders": {"RequestHeader": {"correlationId": f"corr-{number}"}}} if (
        call.header) else {}
    try:
        result = getattr(service, call.name)(**call.arguments, **header)
        value: Any = zeep.helpers.serialize_object(result, dict)
    except zeep.exceptions.Fault as fault:
        assert transport.last is not None
        code = _fault_code(transport.last.content)
        assert fault.code.endswith(":" + code.rsplit("}", 1)[1]), (fault.code, code)
        value = {"faultcode": code, "faultstring": fault.message, "detail": _detail(fault.detail)}
    last = transport.last
    assert last is not None, f"{call}: zeep sent nothing"
    return Answer(value, last.status_code, last.content)


def ask_all(wsdl: str, endpoint: str) -> list[Answer]:
    """zeep reads spyne's WSDL and sends every call in CALLS to `endpoint`."""
    transport = CapturingTransport()
    client = zeep.Client(wsdl, transport=transport)
    service = client.create_service(next(iter(client.wsdl.bindings)), endpoint)
    return [_ask(service, transport, call, number) for number, call in enumerate(CALLS)]


# --- the servers ---------------------------------------------------------------------------------


@dataclass
class Modern:
    server: Server
    app: Any

    @property
    def calls(self) -> int:
        return int(self.app.state.calls)


@pytest.fixture(scope="module")
def safeguarding_spyne(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("spyne-safeguarding") / "server.log"
    yield from serve([sys.executable, "-m", "tests.interop.spyne_safeguarding.service"], REPO,
                     "spyne-safeguarding", log)


@pytest.fixture(scope="module")
def safeguarding_modern() -> Iterator[Modern]:
    app = make_app()
    with UvicornThread(app) as served:
        yield Modern(Server("safeguarding-modern", served.port), app)


def _endpoint(where: Server | Proxy) -> str:
    return where.base + SERVICE_PATH


@pytest.fixture(scope="module")
def spyne_answers(safeguarding_spyne: Server) -> list[Answer]:
    return ask_all(_endpoint(safeguarding_spyne) + "?wsdl", _endpoint(safeguarding_spyne))


# --- the proxy, in shadow and in translator mode --------------------------------------------------


@dataclass
class Run:
    proxy: Proxy
    answers: list[Answer]
    #: requests the modern service answered during the run
    service_calls: int
    #: the admin /metrics, once every shadow comparison was counted (shadow mode)
    metrics: str
    exit_code: int

    def exchanges(self) -> list[Exchange]:
        return [exchange for exchange in RecordingStore(self.proxy.record_dir).iter_exchanges()
                if exchange.operation is not None and exchange.operation.key in OPERATIONS]


def _scrape(proxy: Proxy) -> str:
    admin = proxy.settings["admin"]["port"]
    with urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=10) as answer:
        return str(answer.read().decode())


def comparisons(metrics: str) -> dict[str, int]:
    """turnout_shadow_comparisons_total of our operations, summed by result."""
    counted: dict[str, int] = {}
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "turnout_shadow_comparisons_total" and sample.labels["operation"] in OPERATIONS:
                result = sample.labels["result"]
                counted[result] = counted.get(result, 0) + int(sample.value)
    return counted


def _run(directory: Path, spyne: Server, modern: Modern, route: dict[str, Any]) -> Run:
    proxy = start_proxy(
        directory, spyne.base,
        translators=str(TRANSLATORS),
        services={"safeguarding": modern.server.base},
        routes={operation: dict(route) for operation in OPERATIONS},
        readiness={"min_parity": 100, "min_samples": len(CALLS)},
        compare={"rules": str(COMPARE_RULES)},
    )
    metrics = ""
    try:
        before = modern.calls
        answers = ask_all(_endpoint(spyne) + "?wsdl", _endpoint(proxy))
        if route["mode"] == "shadow":
            # shadow runs finish off the client's path: wait (bounded) until all are counted
            deadline = time.monotonic() + 30
            metrics = _scrape(proxy)
            while sum(comparisons(metrics).values()) < len(CALLS) and time.monotonic() < deadline:
                time.sleep(0.1)
                metrics = _scrape(proxy)
        service_calls = modern.calls - before
    finally:
        # SIGTERM: in-flight shadow runs and recordings finish before the proxy exits
        exit_code = proxy.stop(timeout=30)
    return Run(proxy, answers, service_calls, metrics, exit_code)


@pytest.fixture(scope="module")
def shadow_run(safeguarding_spyne: Server, safeguarding_modern: Modern,
               tmp_path_factory: pytest.TempPathFactory, proxy_engine: str) -> Run:
    return _run(tmp_path_factory.mktemp("safeguarding-shadow"), safeguarding_spyne, safeguarding_modern,
                {"mode": "shadow", "timeout": 5})


@pytest.fixture(scope="module")
def translator_run(safeguarding_spyne: Server, safeguarding_modern: Modern,
                   tmp_path_factory: pytest.TempPathFactory, proxy_engine: str) -> Run:
    return _run(tmp_path_factory.mktemp("safeguarding-translator"), safeguarding_spyne, safeguarding_modern,
                {"mode": "translator", "on_error": "fault", "timeout": 5})


# --- spyne itself: what the mapping has to reproduce ----------------------------------------------


def test_spyne_writes_what_the_mapping_must_reproduce(spyne_answers: list[Answer]) -> None:
    """Guards the premise: if spyne stopped writing these, the parity below would prove less."""
    bodies = [answer.body.decode() for answer in spyne_answers]
    assert 'riskLevel="HIGH"' in bodies[0] and "<tns:created>2026-03-01T09:30:00+00:00<" in bodies[0]
    assert "<tns:string>CR/2026/000104</tns:string>" in bodies[0]
    assert "<tns:ResponseHeader><tns:correlationId>corr-0<" in bodies[0]
    assert "2026-02-14T17:05:42.250000+00:00" in bodies[1] and 'xsi:nil="true"' in bodies[1]
    assert "<tns:linkedRefs/>" in bodies[1] and "forenames" not in bodies[1]
    assert "linkedRefs" not in bodies[2]
    assert "<faultcode>soap11env:Client.RecordNotFound</faultcode>" in bodies[3]
    assert "Header" not in bodies[3] and "<detail><RecordFault><field>recordId</field>" in bodies[3]
    assert bodies[4].count("<tns:Record ") == 2 and "<tns:SearchRecordsResult/>" in bodies[5]
    assert "<faultcode>soap11env:Client.ValidationError</faultcode>" in bodies[6]
    assert "Header" not in bodies[7] and 'riskLevel="LOW"' in bodies[7]
    assert [answer.status for answer in spyne_answers] == [200, 200, 200, 500, 200, 200, 500, 200]


# --- translator mode: the client is answered by the mapping ---------------------------------------


def test_translated_envelopes_are_identical_to_spyne_s(translator_run: Run, spyne_answers: list[Answer]) -> None:
    strict = Rules(fault_detail=True)  # no ignore rules: nothing here is volatile
    for call, spyne, translated in zip(CALLS, spyne_answers, translator_run.answers, strict=True):
        found = diff(spyne.body, translated.body, strict)
        assert found.equal and found.exact, (
            f"{call}: {found.differences}\nspyne:      {spyne.body!r}\ntranslated: {translated.body!r}")
        assert translated.status == spyne.status, call
    assert translator_run.exit_code == 0, translator_run.proxy.output()


def test_zeep_reads_the_translated_answers_as_it_reads_spyne_s(
    translator_run: Run, spyne_answers: list[Answer]
) -> None:
    for call, spyne, translated in zip(CALLS, spyne_answers, translator_run.answers, strict=True):
        assert translated.value == spyne.value, call


def test_the_translator_and_not_spyne_answered(translator_run: Run) -> None:
    """The modern service was called for each call but the refused one, and the proxy recorded
    every exchange as translated (on_error: fault, so no answer came from spyne)."""
    assert translator_run.service_calls == sum(call.calls_service for call in CALLS)
    exchanges = translator_run.exchanges()
    assert len(exchanges) == len(CALLS)
    assert {exchange.route for exchange in exchanges} == {"translator"}, [e.notes for e in exchanges]


# --- shadow mode: spyne answers, the mapping is compared beside it --------------------------------


def test_shadow_clients_get_spyne_s_answers(shadow_run: Run, spyne_answers: list[Answer]) -> None:
    for call, spyne, proxied in zip(CALLS, spyne_answers, shadow_run.answers, strict=True):
        assert proxied.value == spyne.value, call
        assert diff(spyne.body, proxied.body, Rules(fault_detail=True)).exact, call
    assert shadow_run.exit_code == 0, shadow_run.proxy.output()


def test_every_shadowed_exchange_was_compared_equal_in_the_recordings(shadow_run: Run) -> None:
    exchanges = shadow_run.exchanges()
    assert len(exchanges) == len(CALLS)
    assert {exchange.route for exchange in exchanges} == {"shadow"}
    odd = [(e.id, e.notes, e.translation.get("diff"), e.translation.get("error"))
           for e in exchanges if e.translation.get("equal") is not True]
    assert not odd, odd
    for operation in OPERATIONS:
        expected = sum(call.operation == operation for call in CALLS)
        readiness = shadow_readiness(exchanges, operation, 100, expected)
        assert (readiness.samples, readiness.equal) == (expected, expected), (operation, readiness)


def test_the_admin_metrics_count_every_shadow_comparison_the_same(shadow_run: Run) -> None:
    assert comparisons(shadow_run.metrics) == {"same": len(CALLS)}, shadow_run.metrics


def _turnout(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([*turnout_command(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_turnout_compare_over_the_shadow_recordings_is_100_percent(shadow_run: Run, tmp_path: Path) -> None:
    proxy = shadow_run.proxy
    done = _turnout("compare", str(proxy.record_dir), "-c", str(proxy.config), "--min-parity", "100",
                    "--report-dir", str(tmp_path), cwd=proxy.directory)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "parity.json").read_text())
    rows = {row["operation"]: row for row in report["operations"] if row["operation"] in OPERATIONS}
    for operation in OPERATIONS:
        expected = sum(call.operation == operation for call in CALLS)
        row = rows[operation]
        assert (row["samples"], row["not_compared"], row["parity"]) == (expected, 0, 100.0), row
