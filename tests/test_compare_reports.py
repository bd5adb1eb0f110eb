"""`turnout compare DIR`: parity of the translators against real recordings of the demo bus.

One module-wide stack: the legacy bus and the modern services over one store, a proxy with the
five reads in shadow (recording without redaction, so requests can be sent again as they were)
and the demo scenario through it; then the same proxy, its reads moved to the translators, is
the live target. Every test reads those recordings; none starts servers of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from turnout.cli import main
from turnout.cli._compare import compare
from turnout.cli._demo_run import READS
from turnout.compare import (
    NewAnswer,
    OperationParity,
    ParityReport,
    Rules,
    Sample,
    SampleDifference,
    compare_sample,
    report_html,
    resendable_headers,
)
from turnout.config import load_proxy_config
from turnout.demo import DemoStore, ServerThread, make_legacy_app, make_modern_app
from turnout.demo.config import DEMO_CONFIG, write_demo_config
from turnout.demo.drain import wait_for_recordings
from turnout.demo.scenario import run_scenario
from turnout.demo.translators import DIRECTORY as DEMO_TRANSLATORS
from turnout.proxy import ProxyThread
from turnout.recording import Exchange, RecordingStore, redactor_from_config
from turnout.routing import set_route
from turnout.soap import HttpRequest, HttpResponse, OperationName

from .support.demo_writes import demo_writes

WRITES = tuple(sorted(demo_writes()))  # they stay on the legacy route here


@dataclass
class Stack:
    recordings: Path
    config: Path  # the proxy's turnout.yaml: translators, rules, write routes
    target: ProxyThread  # the proxy that recorded, now with the reads on the translators
    calls: Counter[str]  # scenario calls per operation


def _config_copy(directory: Path, bus: str, services: str, modes: dict[str, str]) -> Path:
    """The demo config for this run, without its redaction section: these recordings are sent
    again as they are (live mode), which redacted requests could not be."""
    path = write_demo_config(directory, bus, services, directory / "recordings", authenticate=False)  # an open bus and services
    yaml = YAML(typ="rt")
    doc = yaml.load(path.read_text(encoding="utf-8"))
    del doc["recordings"]["redaction"]
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(doc, handle)
    for operation, mode in modes.items():
        set_route(path, operation, mode)
    return path


def _wait_for_routes(proxy: ProxyThread, mode: str) -> None:
    """The proxy reloads its route file within a second of an edit."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if all(proxy.state.routes.get().route_for(op).mode == mode for op in READS):
            return
        time.sleep(0.05)
    raise AssertionError(f"the proxy did not switch the reads to {mode}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("compare")
    store = DemoStore()
    with ServerThread(make_legacy_app(store)) as bus, ServerThread(make_modern_app(store)) as services:
        config = _config_copy(root / "run", bus.url, services.url, {op: "shadow" for op in READS})
        with ProxyThread(load_proxy_config(config)) as proxy:  # one proxy per process
            _wait_for_routes(proxy, "shadow")
            calls = Counter(call.operation for call in run_scenario(proxy.url))
            wait_for_recordings(proxy)
            # what the tests read; the proxy goes on recording what live mode sends it
            recordings = shutil.copytree(root / "run" / "recordings", root / "recorded")
            # then the same proxy, reads moved to the translators, is the live target
            for operation in READS:
                set_route(config, operation, "translator")
            _wait_for_routes(proxy, "translator")
            yield Stack(recordings, config, proxy, calls)


def _unstamped(stack: Stack) -> Counter[str]:
    """Per operation, the recorded answers that carry no message id (nor a timestamp beside
    it): a translator writes those byte for byte alike, so they compare identical."""
    found: Counter[str] = Counter()
    for exchange in RecordingStore(stack.recordings).iter_exchanges():
        if exchange.operation is not None and exchange.response is not None \
                and b"messageId>" not in exchange.response.body:
            found[exchange.operation.key] += 1
    return found


def run(*args: str) -> Result:
    """The command as registered on `turnout`, or on its own until it is."""
    if "compare" in main.commands:
        return CliRunner().invoke(main, ["compare", *args])
    return CliRunner().invoke(compare, list(args))


def rows(output: str) -> dict[str, list[str]]:
    """The parity table's first line per operation, as cells."""
    found = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells and cells[0].startswith("/"):
            found[cells[0]] = cells
    return found


def test_offline_parity_counts_every_shadowed_read_and_lists_writes_as_not_compared(
    stack: Stack,
) -> None:
    result = run(str(stack.recordings), "--config", str(stack.config))
    assert result.exit_code == 0, result.output
    table = rows(result.output)
    assert set(table) == set(READS) | set(WRITES)
    unstamped = _unstamped(stack)
    for operation in READS:
        samples = stack.calls[operation]
        identical, equal = unstamped[operation], samples - unstamped[operation]
        # samples, identical, equal under rules, different, not compared, parity
        assert table[operation][1:7] == [str(samples), str(identical), str(equal), "0", "0", "100%"], \
            table[operation]
    for operation in WRITES:  # on the legacy route: no translation recorded, listed not failed
        assert table[operation][1:7] == ["0", "0", "0", "0", str(stack.calls[operation]), "-"]
    assert "no translation: the recording has no JSON reply" in result.output


def test_reports_hold_the_table_and_every_sample(stack: Stack, tmp_path: Path) -> None:
    result = run(str(stack.recordings), "--config", str(stack.config), "--report-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    total = sum(stack.calls.values())

    data = json.loads((tmp_path / "parity.json").read_text(encoding="utf-8"))
    assert data["passed"] is True and data["mode"] == "offline"
    by_operation = {op["operation"]: op for op in data["operations"]}
    person = by_operation["/pnc PersonEnquiry"]
    assert person["samples"] == stack.calls["/pnc PersonEnquiry"] == person["equal_under_rules"]
    assert person["parity"] == 100.0 and person["differing_paths"] == []
    assert len(data["samples"]) + len(data["not_compared"]) == total
    # an answer with a message id is equal under the rules (the ids differ), one without is
    # identical (MERLIN's faults carry no header)
    unstamped = sum(_unstamped(stack)[op] for op in READS)
    assert Counter(s["result"] for s in data["samples"]) == Counter(
        {"equal": len(data["samples"]) - unstamped, "identical": unstamped})
    assert {s["via"] for s in data["samples"]} >= {"to_reply", "recorded"}  # rejections as recorded

    suites = ET.parse(tmp_path / "parity.junit.xml").getroot()
    assert suites.tag == "testsuites"
    assert len(suites.findall(".//testcase")) == total
    assert suites.findall(".//failure") == [] and suites.findall(".//error") == []
    assert len(suites.findall(".//skipped")) == sum(stack.calls[op] for op in WRITES)

    page = (tmp_path / "parity.html").read_text(encoding="utf-8")
    assert '<table class="parity" id="parity">' in page and "/pnc PersonEnquiry" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page
    assert "Differing samples (0)" in page


def test_a_broken_value_map_drops_parity_and_the_reports_show_where(
    stack: Stack, tmp_path: Path
) -> None:
    translators = tmp_path / "translators"
    shutil.copytree(DEMO_TRANSLATORS, translators, ignore=shutil.ignore_patterns("__pycache__"))
    shared = translators / "pnc" / "_pnc.yaml"
    text = shared.read_text(encoding="utf-8")
    assert 'sex: {"M": male, "F": female' in text
    shared.write_text(text.replace('sex: {"M": male, "F": female', 'sex: {"M": female, "F": male'),
                      encoding="utf-8")
    reports = tmp_path / "reports"

    result = run(str(stack.recordings), "--config", str(stack.config),
                 "--translators", str(translators), "--report-dir", str(reports))
    assert result.exit_code == 1, result.output
    assert "below 100% parity" in result.output and "/pnc PersonEnquiry" in result.output
    row = rows(result.output)["/pnc PersonEnquiry"]
    assert int(row[4]) > 0 and row[6] != "100%"
    assert "pnc:sex" in result.output

    data = json.loads((reports / "parity.json").read_text(encoding="utf-8"))
    person = next(op for op in data["operations"] if op["operation"] == "/pnc PersonEnquiry")
    assert person["passed"] is False and 0 < person["parity"] < 100
    assert person["differing_paths"][0]["path"].endswith("/pnc:sex")
    differing = [s for s in data["samples"] if s["result"] == "different"]
    assert {d["kind"] for s in differing for d in s["differences"]} == {"changed"}
    swapped = {(d["legacy"], d["new"]) for s in differing for d in s["differences"]}
    assert swapped <= {("M", "F"), ("F", "M")}

    junit = ET.parse(reports / "parity.junit.xml").getroot()
    failures = junit.findall(".//failure")
    assert len(failures) == len(differing) and int(junit.get("failures", "0")) == len(differing)
    assert all("changed /soap:Envelope/" in (f.text or "") and "pnc:sex" in (f.text or "")
               for f in failures)
    page = (reports / "parity.html").read_text(encoding="utf-8")
    assert f"Differing samples ({len(differing)})" in page and differing[0]["id"] in page

    # the gate: the lowest parity passes itself and fails one point above
    lowest = min(op["parity"] for op in data["operations"] if op["parity"] is not None)
    passing = run(str(stack.recordings), "--config", str(stack.config),
                  "--translators", str(translators), "--min-parity", str(int(lowest)))
    assert passing.exit_code == 0, passing.output
    failing = run(str(stack.recordings), "--config", str(stack.config),
                  "--translators", str(translators), "--min-parity", str(int(lowest) + 1))
    assert failing.exit_code == 1, failing.output


def test_live_mode_sends_the_recorded_reads_to_the_target_and_never_the_writes(stack: Stack) -> None:
    before = stack.target.state.stats.snapshot().get("translator.ok", 0)
    result = run(str(stack.recordings), "--config", str(stack.config),
                 "--target", stack.target.url, "--min-parity", "50")
    assert result.exit_code == 0, result.output
    table = rows(result.output)
    for operation in READS:
        assert table[operation][1] == str(stack.calls[operation])
    for operation in set(READS) - {"/cris SearchCrimeReports"}:
        assert table[operation][6] == "100%", table[operation]
    # live means today's data: the searches now also find the crimes filed after them
    search = table["/cris SearchCrimeReports"]
    assert search[6] != "100%" and "cris:totalRecords" in result.output
    for operation in WRITES:
        assert table[operation][5] == str(stack.calls[operation])
    assert "a write: not sent again" in result.output
    sent = stack.target.state.stats.snapshot().get("translator.ok", 0) - before
    assert sent == sum(stack.calls[op] for op in READS)

    gated = run(str(stack.recordings), "--config", str(stack.config), "--target", stack.target.url)
    assert gated.exit_code == 1 and "/cris SearchCrimeReports" in gated.output


def test_live_mode_against_nothing_is_a_clear_error(stack: Stack) -> None:
    result = run(str(stack.recordings), "--config", str(stack.config), "--target", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "unreachable" in result.output and "Traceback" not in result.output


def test_recordings_redacted_by_the_demo_config_still_compare_offline(
    stack: Stack, tmp_path: Path
) -> None:
    """Redact as the recorder would: the JSON replies are redacted like the envelopes, so the
    translator rebuilds the same redacted values; rejections are compared as recorded, since
    the request half would now judge redacted values."""
    redacted = RecordingStore(tmp_path / "redacted",
                              redactor_from_config(load_proxy_config(DEMO_CONFIG).redaction))
    for exchange in RecordingStore(stack.recordings).iter_exchanges():
        redacted.write(exchange)
    result = run(str(tmp_path / "redacted"), "--config", str(stack.config))
    assert result.exit_code == 0, result.output
    table = rows(result.output)
    assert all(table[operation][6] == "100%" for operation in READS), result.output


def test_nothing_to_compare_fails_the_gate(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path / "rec")
    store.write(Exchange(
        request=HttpRequest("POST", "/pnc", [("Content-Type", "text/xml")], b"<x/>"),
        client="127.0.0.1:1", operation=OperationName("/pnc", "PersonEnquiry"),
        response=HttpResponse(200, [], b"<x/>"),
    ))
    result = run(str(tmp_path / "rec"), "--translators", str(DEMO_TRANSLATORS))
    assert result.exit_code == 1
    assert "nothing compared" in result.output


@pytest.mark.parametrize("case", ["no-dir", "bad-config", "bad-recording", "no-translators"])
def test_bad_input_is_a_clear_error_with_exit_2(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./turnout.yaml to fall back on
    recordings = tmp_path / "rec"
    (recordings / "pnc" / "PersonEnquiry").mkdir(parents=True)
    args = [str(recordings), "--translators", str(DEMO_TRANSLATORS)]
    expected = ""
    if case == "no-dir":
        args[0], expected = str(tmp_path / "nope"), "no such directory"
    elif case == "bad-config":
        config = tmp_path / "turnout.yaml"
        config.write_text("upstream: http://127.0.0.1:1\nlisten:\n  port: banana\n")
        args += ["--config", str(config)]
        expected = f"{config}:3: listen.port"
    elif case == "bad-recording":
        bad = recordings / "pnc" / "PersonEnquiry" / "20261125T075301.123Z-1a2b3c4d.yaml"
        bad.write_text("turnout_exchange: 1\nid: [not, an, id\n")
        expected = bad.name
    else:
        args = [str(recordings)]
        expected = "needs translators"
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output


def test_resent_requests_keep_end_to_end_headers_only() -> None:
    headers = [("Host", "bus:8000"), ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"),
               ("Content-Length", "9"), ("SOAPAction", '"urn:x#Op"'), ("Transfer-Encoding", "chunked"),
               ("Accept-Encoding", "gzip"), ("Content-Type", "text/xml"), ("X-Officer-Id", "PC1")]
    assert resendable_headers(headers) == [
        ("SOAPAction", '"urn:x#Op"'), ("Content-Type", "text/xml"), ("X-Officer-Id", "PC1"),
    ]


def test_another_status_or_an_unreadable_answer_is_a_difference_not_a_crash() -> None:
    exchange = Exchange(
        request=HttpRequest("POST", "/pnc", [], b""), client="127.0.0.1:1",
        operation=OperationName("/pnc", "PersonEnquiry"), response=HttpResponse(200, [], b"<a><b>1</b></a>"),
    )
    status = compare_sample(exchange, NewAnswer(500, b"<a><b>1</b></a>"), Rules())
    assert status.result == "different"
    assert [(d.kind, d.legacy, d.new) for d in status.differences] == [("status", "200", "500")]
    unreadable = compare_sample(exchange, NewAnswer(200, b"<html"), Rules())
    assert [d.kind for d in unreadable.differences] == ["unreadable"]
    assert "the new answer" in (unreadable.differences[0].new or "")
    assert compare_sample(exchange, NewAnswer(200, b"<a> <b>1</b> </a>"), Rules()).result == "identical"


def _hostile_report() -> ParityReport:
    nasty = "<script>alert('x')</script> & \"quotes\" \x01"
    operation = OperationParity("/pnc <b>Enquiry</b>", samples=[Sample(
        id="20261125T075301.123Z-1a2b3c4d", operation="/pnc <b>Enquiry</b>", result="different",
        legacy_status=200, new_status=200,
        differences=(SampleDifference("/a/b", "changed", nasty, "<img src=x>"),),
    )])
    return ParityReport(directory="<dir>", mode="offline", operations=[operation], recordings=1)


def test_the_html_report_escapes_every_value() -> None:
    page = report_html(_hostile_report(), 100.0)
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page
    assert "\x01" not in page


def test_the_html_report_renders_in_a_real_browser(stack: Stack, tmp_path: Path) -> None:
    """Chromium, headless, opens the file: the parity table is in the DOM it built, with a row
    per operation. (The page's own Content-Security-Policy forbids scripts and fetches.)"""
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; CI must install it (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    reports = tmp_path / "reports"
    result = run(str(stack.recordings), "--config", str(stack.config), "--report-dir", str(reports))
    assert result.exit_code == 0, result.output
    page = reports / "parity.html"
    dumped = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    assert '<table class="parity" id="parity">' in dom, dom[:2000]
    table = dom[dom.index('id="parity"'):dom.index("</table>", dom.index('id="parity"'))]
    assert table.count("<tr") == 1 + len(READS) + len(WRITES)  # the head and one per operation
    assert all(operation in table for operation in READS)
    assert "Turnout parity report" in dom


def test_learn_noise_is_handed_to_the_noise_learner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./turnout.yaml: the learner refuses to guess which ops write
    (tmp_path / "rec").mkdir()
    result = run(str(tmp_path / "rec"), "--learn-noise")
    assert result.exit_code == 2, result.output
    assert "--config" in result.output and "Traceback" not in result.output
