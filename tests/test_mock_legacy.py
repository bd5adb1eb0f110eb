"""`turnout mock legacy`: the committed golden recordings served as a virtual bus, black-box.

The mock runs as a real process (`turnout mock legacy recordings --port P`); the scenario's zeep
clients, `turnout compare --target` and a real proxy talk to it over loopback.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from lxml import etree

from tests.support.mock_process import (
    DEMO_CONFIG,
    GOLDEN,
    PseudonymisingRelay,
    demo_redactor,
    mock_legacy,
)
from tests.support.proxy_process import TURNOUT, ProxyProcess
from turnout.demo.config import write_demo_config
from turnout.demo.scenario import SIGNATURE_PNG, run_scenario
from turnout.mock import fresh_value, parse_latency
from turnout.mock._book import recorded_from
from turnout.recording import RecordingStore
from turnout.soap import HttpRequest
from turnout.translators import load_translators

CREATE = "/cris CreateCrimeReport"


def _outcomes(calls: list) -> list[tuple]:  # type: ignore[type-arg]
    """What a scenario run shows a caller: per call, answered or which fault and bus code."""
    return [(c.operation, c.label, c.ok, c.fault_code, c.error_code) for c in calls]


def _recorded(key: str) -> list:  # type: ignore[type-arg]
    return [e for e in RecordingStore(GOLDEN).iter_exchanges()
            if e.operation is not None and e.operation.key == key]


def _post(url: str, path: str, body: bytes, action: str) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"{url}{path}", data=body, method="POST",
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _text(body: bytes, local: str) -> str:
    found = etree.fromstring(body).find(f".//{{*}}{local}")
    assert found is not None, body
    return found.text or ""


@pytest.fixture(scope="module")
def golden_mock(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with mock_legacy(log_dir=tmp_path_factory.mktemp("mock")) as mock:
        yield mock


def test_scenario_against_the_golden_mock_answers_as_the_real_bus(golden_mock, legacy_bus) -> None:  # type: ignore[no-untyped-def]
    real = run_scenario(legacy_bus.url)
    with PseudonymisingRelay(golden_mock.url, demo_redactor()) as relay:
        mocked = run_scenario(relay.url)
    assert all(call.as_expected for call in real)
    assert _outcomes(mocked) == _outcomes(real)
    # the read-backs of the new crimes were answered: the mock followed its own fresh references
    read_backs = [c for c in mocked if c.label == "read back a new crime"]
    assert len(read_backs) == 3 and all(c.ok for c in read_backs)


def test_a_write_gets_a_fresh_reference_in_the_recorded_format(golden_mock) -> None:  # type: ignore[no-untyped-def]
    exchange = _recorded(CREATE)[0]
    assert exchange.response is not None
    recorded = _text(exchange.response.body, "crimeReference")
    shape = re.compile(r"CR/2026/\d{6}")
    assert shape.fullmatch(recorded)
    references = []
    for _ in range(2):
        status, body = _post(golden_mock.url, "/cris", exchange.request.body, exchange.action or "")
        assert status == 200, body
        references.append(_text(body, "crimeReference"))
        assert _text(body, "messageId") != _text(exchange.response.body, "messageId")
        assert _text(body, "statusCode") == _text(exchange.response.body, "statusCode")
    assert all(shape.fullmatch(ref) for ref in references)
    assert recorded not in references and references[0] != references[1]
    # and a read of a handed-out reference is answered as the recorded one was, with ours in it
    get = next(e for e in _recorded("/cris GetCrimeReport")
               if recorded.encode() in e.request.body)
    status, body = _post(golden_mock.url, "/cris",
                         get.request.body.replace(recorded.encode(), references[0].encode()),
                         get.action or "")
    assert status == 200, body
    assert _text(body, "crimeReference") == references[0]


def test_an_unmatched_read_gets_a_fault_naming_the_nearest_and_the_field(golden_mock) -> None:  # type: ignore[no-untyped-def]
    exchange = _recorded("/pnc VehicleEnquiry")[0]
    sent = re.sub(rb"<ns0:registrationMark>[^<]*<", b"<ns0:registrationMark>QQ11 QQQ<",
                  exchange.request.body)
    assert sent != exchange.request.body
    status, body = _post(golden_mock.url, "/pnc", sent, exchange.action or "")
    assert status == 500
    reason = _text(body, "faultstring")
    assert "/pnc VehicleEnquiry" in reason and "registrationMark" in reason
    assert re.search(r"\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}", reason), reason
    assert b"mock.no-match" in body


def test_the_mock_serves_the_wsdl_addressed_to_itself(golden_mock) -> None:  # type: ignore[no-untyped-def]
    with urllib.request.urlopen(f"{golden_mock.url}/pnc?wsdl", timeout=10) as answer:
        wsdl = answer.read()
    assert f'location="{golden_mock.url}/pnc"'.encode() in wsdl
    assert f"{golden_mock.url}/pnc?xsd=pnc.xsd".encode() in wsdl
    with urllib.request.urlopen(f"{golden_mock.url}/pnc?xsd=pnc.xsd", timeout=10) as answer:
        assert b"schema" in answer.read()


def _recorded_reads() -> int:
    """The golden recordings of reads: those compare --target sends (a write never goes)."""
    translators = load_translators(DEMO_CONFIG.parent / "translators")
    reads = 0
    for exchange in RecordingStore(GOLDEN).iter_exchanges():
        translator = translators.for_operation(exchange.operation.key) if exchange.operation else None
        reads += translator is not None and not translator.writes
    return reads


def test_compare_target_against_the_mock_matches_every_recorded_read_but_a_wrong_password(
        golden_mock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # --translators, not --config: compare pseudonymises a live target's answers with the
    # config's key, and the mock's answers are the recordings' own, pseudonymised already
    done = subprocess.run(
        [*TURNOUT, "compare", str(GOLDEN), "--target", golden_mock.url,
         "--translators", str(DEMO_CONFIG.parent / "translators"),
         "--rules", str(DEMO_CONFIG.parent / "compare.yaml"), "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    report = json.loads((tmp_path / "parity.json").read_text())
    assert report["mode"] == "live" and report["totals"]["samples"] == _recorded_reads(), done.stdout
    different = [s for s in report["samples"] if s["result"] not in ("equal", "identical")]
    # the one read the mock cannot tell apart: the same officer and payload, refused for a
    # wrong password the recording never holds; every other recorded read is answered alike
    assert [s["operation"] for s in different] == ["/pnc PersonEnquiry"], different
    refused = RecordingStore(GOLDEN).get(different[0]["id"])
    assert refused.response is not None and b"AUTHFAIL" in refused.response.body


def test_a_proxy_whose_upstream_is_the_mock_answers_from_the_recordings(golden_mock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = write_demo_config(tmp_path, golden_mock.url, "http://127.0.0.1:9", tmp_path / "rec",
                               authenticate=False)
    exchange = _recorded("/geo ResolveLocation")[0]
    with ProxyProcess(config) as proxy:
        status, body = _post(proxy.url, "/geo", exchange.request.body, exchange.action or "")
    assert status == 200, body
    assert exchange.response is not None
    assert _text(body, "ResolveLocationResponse") is not None
    assert etree.tostring(etree.fromstring(body).find(".//{*}Body")) == etree.tostring(
        etree.fromstring(exchange.response.body).find(".//{*}Body"))


def test_fresh_values_keep_the_recorded_shape() -> None:
    assert re.fullmatch(r"ST-[1-9]\d{4}", fresh_value("ST-10042"))
    assert re.fullmatch(r"[0-9a-f-]{36}", fresh_value("6f3532cf-ff3a-4e8f-a950-3e60aa881b56"))
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", fresh_value("30/11/2026 21:33:09"))
    assert re.fullmatch(r"CR/2026/\d{6}", fresh_value("CR/2026/000111"))
    assert fresh_value("--") == "--"


def test_latency_option_reads_its_three_forms() -> None:
    assert parse_latency("recorded").seconds(12.0) == pytest.approx(0.012)
    assert parse_latency("none").seconds(12.0) == 0.0
    assert parse_latency("50ms").seconds(None) == pytest.approx(0.05)
    with pytest.raises(ValueError):
        parse_latency("fast")


def test_a_recorded_mtom_request_is_read_as_the_proxy_reads_it() -> None:
    """A recording made without body rules keeps an MTOM request as it came; the book reads its
    root part as the envelope (`turnout.soap.read_message`), as the mock reads a live one."""
    plain = next(e for e in _recorded("/eforms SubmitWitnessStatement")
                 if e.response is not None and e.response.status == 200)
    boundary = "MIMEBoundary_k1"
    body = (f"--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; "
            f'type="text/xml"\r\nContent-Transfer-Encoding: 8bit\r\nContent-ID: <root@k1>\r\n\r\n'
            ).encode() + plain.request.body + (
            f"\r\n--{boundary}\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: <sig@k1>\r\n\r\n").encode() + SIGNATURE_PNG + f"\r\n--{boundary}--\r\n".encode()
    headers = [(k, v) for k, v in plain.request.headers if k.lower() != "content-type"]
    headers.append(("Content-Type", f'multipart/related; boundary="{boundary}"; '
                                    f'type="application/xop+xml"; start="<root@k1>"; start-info="text/xml"'))
    multipart = copy.copy(plain)
    multipart.request = HttpRequest(plain.request.method, plain.request.path, headers, body)
    read, expected = recorded_from(multipart, {}), recorded_from(plain, {})
    assert read is not None and expected is not None
    assert read.canonical == expected.canonical and read.key == expected.key
