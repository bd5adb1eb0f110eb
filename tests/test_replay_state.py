"""Replay that follows state (issue 15): learn which answer values later requests carry, and
replay a recorded create-then-read sequence against a fresh bus with the new references.

The sequence is recorded through a real proxy process in front of a demo bus process that
has already filed two crimes (so its references are not a fresh bus's); each replay goes to
a fresh demo bus process of its own.
"""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from turnout.cli._replay import replay as replay_command
from turnout.config import ConfigError
from turnout.recording import (
    CarryPlace,
    CarryRule,
    Exchange,
    RecordingStore,
    SendOptions,
    learn_carry,
    load_carry_rules,
    parse_carry_rules,
    plan_replay,
    reference_like,
    render_rules,
    replay,
)
from turnout.soap import HttpRequest, HttpResponse, OperationName

from .support.bus import Reply, ScriptedBus
from .support.proxy_process import TURNOUT, ProxyProcess, free_port

CRIS = "urn:police:cris:v1"
CREATE, GET = "/cris CreateCrimeReport", "/cris GetCrimeReport"
CREATE_PATH = "/Envelope/Body/CreateCrimeReportResponse/crimeReference"
GET_PATH = "/Envelope/Body/GetCrimeReport/crimeReference"


def envelope(operation: str, fields: dict[str, str]) -> bytes:
    inner = "".join(f"<c:{name}>{value}</c:{name}>" for name, value in fields.items())
    return (f'<?xml version="1.0" encoding="utf-8"?>'
            f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:c="{CRIS}"><soap:Body><c:{operation}>{inner}</c:{operation}></soap:Body>'
            f"</soap:Envelope>").encode()


CRIME = {"offenceCode": "CRDM", "committedDate": "20260308", "beatCode": "TN01",
         "addressLine": "14 Larkspur Close, Turnbridge", "postcode": "TB1 4LX",
         "summary": "Garden fence panels kicked through overnight.", "reportingOfficer": "PC4127"}


def post(port: int, operation: str, fields: dict[str, str]) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("POST", "/cris", envelope(operation, fields), {
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{CRIS}#{operation}"'})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def reference_in(text: str) -> str:
    found = re.search(r"crimeReference>(CR/\d{4}/\d{6})<", text)
    assert found, text
    return found.group(1)


@dataclass
class BusProcess:
    """`turnout demo legacy --no-auth` in a subprocess: a bus with its own fresh store."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def start_bus() -> Iterator[object]:
    started: list[BusProcess] = []

    def start() -> BusProcess:
        port = free_port()
        process = subprocess.Popen([*TURNOUT, "demo", "legacy", "--no-auth", "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bus = BusProcess(process, port)
        started.append(bus)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, "the demo bus exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return bus
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the demo bus did not start")

    yield start
    for bus in started:
        bus.process.terminate()
        try:
            bus.process.wait(10)
        except subprocess.TimeoutExpired:
            bus.process.kill()
            bus.process.wait()


@dataclass
class Recorded:
    recordings: Path
    references: list[str]  # what the recording bus allocated to the two creates


@pytest.fixture
def recorded(tmp_path: Path, start_bus) -> Recorded:  # type: ignore[no-untyped-def]
    """Two creates and a read of each, and a read of a seeded crime, through the proxy."""
    bus = start_bus()
    for _ in range(2):  # filed before recording: the recorded references are not a fresh bus's
        assert post(bus.port, "CreateCrimeReport", CRIME)[0] == 200
    recordings = tmp_path / "recordings"
    config = tmp_path / "turnout.yaml"
    config.write_text(f"upstream: {bus.url}\nroutes:\n"
                      f"  {CREATE}: {{mode: legacy, writes: true}}\n"
                      f"  {GET}: {{mode: legacy}}\n")
    references = []
    with ProxyProcess(config, extra=["--record", str(recordings), "--unredacted"]) as proxy:
        for _ in range(2):
            status, text = post(proxy.port, "CreateCrimeReport", CRIME)
            assert status == 200, text
            references.append(reference_in(text))
        for reference in [*references, "CR/2026/000101"]:
            assert post(proxy.port, "GetCrimeReport", {"crimeReference": reference})[0] == 200
        deadline = time.monotonic() + 10
        while len(list(recordings.rglob("*.yaml"))) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(list(recordings.rglob("*.yaml"))) == 5, proxy.log
    assert references == ["CR/2026/000113", "CR/2026/000114"]
    return Recorded(recordings, references)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(replay_command, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def replayed(out: Path) -> list[Exchange]:
    return sorted(RecordingStore(out).iter_exchanges(), key=lambda e: e.started_at)


def test_a_create_then_read_sequence_replays_on_a_fresh_bus_only_when_it_follows_state(
    recorded: Recorded, start_bus, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    config = tmp_path / "turnout.yaml"
    # plainly, the reads ask a fresh bus for references it never allocated
    plain_bus = start_bus()
    code, output = run(str(recorded.recordings), "--target", plain_bus.url, "--config",
                       str(config), "--include-writes", "--rate", "500",
                       "--out", str(tmp_path / "plain"))
    assert code == 0, output
    plain = replayed(tmp_path / "plain")
    creates = [e for e in plain if e.operation and e.operation.name == "CreateCrimeReport"]
    assert [reference_in(e.response.body.decode()) for e in creates if e.response] == [
        "CR/2026/000111", "CR/2026/000112"]
    reads = {reference_in(e.request.body.decode()): e for e in plain
             if e.operation and e.operation.name == "GetCrimeReport"}
    for reference in recorded.references:
        answer = reads[reference].response
        assert answer is not None and answer.status == 500
        assert f"no crime report {reference}" in answer.body.decode()
    assert reads["CR/2026/000101"].response.status == 200  # type: ignore[union-attr]

    # learn: the reference a create answers is what the later reads send
    rules_file = tmp_path / "replay-rules.yaml"
    code, output = run(str(recorded.recordings), "--learn", "--rules", str(rules_file))
    assert code == 0, output
    rules = load_carry_rules(rules_file)
    assert CarryRule(CarryPlace(CREATE, CREATE_PATH), CarryPlace(GET, GET_PATH), 2) in rules
    assert rules_file.read_text().startswith("# Replay rules")
    code, output = run(str(recorded.recordings), "--learn", "--rules", str(rules_file))
    assert code != 0 and "exists" in output  # never over a file a person may have edited

    # following the rules, every read succeeds against another fresh bus, with its references
    fresh = start_bus()
    code, output = run(str(recorded.recordings), "--target", fresh.url, "--config",
                       str(config), "--include-writes", "--rules", str(rules_file),
                       "--rate", "500", "--concurrency", "4", "--out", str(tmp_path / "followed"))
    assert code == 0, output
    followed = replayed(tmp_path / "followed")
    reads_sent = [e for e in followed if e.operation and e.operation.name == "GetCrimeReport"]
    assert len(reads_sent) == 3
    for exchange in reads_sent:
        assert exchange.response is not None and exchange.response.status == 200, exchange
    carried = sorted(reference_in(e.request.body.decode()) for e in reads_sent)
    assert carried == ["CR/2026/000101", "CR/2026/000111", "CR/2026/000112"]
    for exchange in reads_sent:  # each answer is the crime the read asked for
        assert exchange.response is not None
        assert reference_in(exchange.response.body.decode()) == reference_in(
            exchange.request.body.decode())
    assert re.search(r"│ carried +│ 2 ", output) and re.search(r"│ not carried +│ 0 ", output), output


def test_a_value_never_captured_is_sent_as_recorded_and_counted(
    recorded: Recorded, start_bus, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """Without --include-writes the creates are not sent: the reads that carry their
    references go as recorded, and the summary says so."""
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(render_rules([CarryRule(CarryPlace(CREATE, CREATE_PATH),
                                                  CarryPlace(GET, GET_PATH))]))
    bus = start_bus()
    code, output = run(str(recorded.recordings), "--target", bus.url, "--config",
                       str(tmp_path / "turnout.yaml"), "--rules", str(rules_file),
                       "--rate", "500", "--out", str(tmp_path / "out"))
    assert code == 0, output
    sent = replayed(tmp_path / "out")
    assert [e.operation.name for e in sent if e.operation] == ["GetCrimeReport"] * 3
    assert sorted(reference_in(e.request.body.decode()) for e in sent) == sorted(
        [*recorded.references, "CR/2026/000101"])
    assert re.search(r"│ not carried +│ 2 ", output), output
    assert re.search(r"not carried /cris CreateCrimeReport crimeReference -> /cris "
                     r"GetCrimeReport crimeReference ×2", output)
    assert sum(1 for e in sent if e.extra.get("carried")) == 2


# -- learning, in memory ---------------------------------------------------------------------

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def exchange(at: float, name: str, request: str, response: str, status: int = 200,
             took: float = 5.0) -> Exchange:
    def env(body: str) -> bytes:
        return (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="{CRIS}">'
                f"<s:Body>{body}</s:Body></s:Envelope>").encode()
    return Exchange(
        request=HttpRequest("POST", "/cris", [("Content-Type", "text/xml")], env(request)),
        client="test", started_at=T0 + timedelta(seconds=at),
        operation=OperationName("/cris", name, CRIS),
        response=HttpResponse(status, [("Content-Type", "text/xml")], env(response)),
        timings={"total": took},
    )


def test_common_values_dates_and_words_are_not_references() -> None:
    for value in ("true", "false", "REC", "2026-03-05", "2026-03-05T10:00:00Z", "20261130",
                  "30/11/2026", "12:30", "21:33:09", "3.50", "12345", "Featherstonehaugh",
                  "TB1 4LX", "a b c 1 2 3"):
        assert not reference_like(value), value
    for value in ("CR/2026/000111", "6f3532cf-ff3a-4e8f-a950-3e60aa881b56", "123456789",
                  "SESSION-42x"):
        assert reference_like(value), value


def test_only_a_reference_an_answer_gave_before_the_request_becomes_a_rule() -> None:
    create = exchange(0, "Create", "<c:Create><c:summary>x</c:summary></c:Create>",
                      "<c:CreateResponse><c:ref>CR/2026/000111</c:ref><c:ok>true</c:ok>"
                      "<c:on>20261130</c:on></c:CreateResponse>")
    reads = [exchange(1 + n, "Get", "<c:Get><c:ref>CR/2026/000111</c:ref><c:flag>true</c:flag>"
                      "<c:since>20261130</c:since></c:Get>", "<c:GetResponse/>") for n in range(2)]
    learned = learn_carry([reads[1], create, reads[0]])  # any order: put in time order
    assert learned.rules == [CarryRule(
        CarryPlace("/cris Create", "/Envelope/Body/CreateResponse/ref"),
        CarryPlace("/cris Get", "/Envelope/Body/Get/ref"), 2)]
    # a value a request held first was the client's own, whatever answers say later
    early = exchange(-1, "Get", "<c:Get><c:ref>CR/2026/000111</c:ref></c:Get>", "<c:GetResponse/>")
    assert learn_carry([early, create, *reads]).rules == []
    # a request sent before the answer came back could not have carried it
    overlapping = [exchange(0.001 * n, "Get", "<c:Get><c:ref>CR/2026/000111</c:ref></c:Get>",
                            "<c:GetResponse/>") for n in (1, 2)]
    assert learn_carry([create, *overlapping]).rules == []
    # a failed answer hands nothing over
    failed = exchange(0, "Create", "<c:Create/>",
                      "<c:CreateResponse><c:ref>CR/2026/000111</c:ref></c:CreateResponse>", 500)
    assert learn_carry([failed, *reads]).rules == []
    # seen once is below the default bar; --min-seen 1 takes it
    assert learn_carry([create, reads[0]]).rules == []
    assert len(learn_carry([create, reads[0]], min_seen=1).rules) == 1


def test_rules_round_trip_through_the_file() -> None:
    rules = [CarryRule(CarryPlace(CREATE, CREATE_PATH), CarryPlace(GET, GET_PATH), 3),
             CarryRule(CarryPlace("/s Login", "/Envelope/Body/LoginResponse/session/@id"),
                       CarryPlace("/s Op", "/Envelope/Header/Session/@id"), 1)]
    assert parse_carry_rules(render_rules(rules, "a note")) == rules
    assert parse_carry_rules(render_rules([])) == []


@pytest.mark.parametrize(("text", "where"), [
    ("rules: []\n", "replay-rules.yaml:1: must be a mapping with a `carry:` list"),
    ("carry:\n  - from: {operation: /cris CreateCrimeReport, path: /Envelope/Body/R/ref}\n",
     "replay-rules.yaml:2: carry[0]: missing field: to"),
    ("carry:\n  - from: {operation: /cris CreateCrimeReport, path: /Envelope/Body/R/ref}\n"
     "    to: {operation: GetCrimeReport, path: /Envelope/Body/G/ref}\n",
     "replay-rules.yaml:3: carry[0].to.operation: 'GetCrimeReport' is not an operation key"),
    ("carry:\n  - from: {operation: /cris CreateCrimeReport, path: //cris:ref}\n"
     "    to: {operation: /cris GetCrimeReport, path: /Envelope/Body/G/ref}\n",
     "replay-rules.yaml:2: carry[0].from.path: '//cris:ref' is not a path of local names"),
    ("carry:\n  - from: {operation: /a B, path: /E/ref}\n    to: {operation: /a C, path: /E/r}\n"
     "    seen: many\n", "replay-rules.yaml:4: carry[0].seen: must be a whole number"),
    ("carry:\n  - from: {operation: /a B, path: /E/ref}\n    to: {operation: /a C, path: /E/r}\n"
     "    sen: 1\n", "replay-rules.yaml:4: carry[0].sen: unknown field"),
])
def test_rule_files_with_mistakes_are_refused_naming_file_line_and_field(
    tmp_path: Path, text: str, where: str,
) -> None:
    path = tmp_path / "replay-rules.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_carry_rules(path)
    assert str(caught.value).startswith(str(tmp_path / where.split(":")[0])), caught.value
    assert where in str(caught.value).replace(str(tmp_path) + "/", ""), caught.value


def test_a_session_id_in_an_attribute_is_carried_into_a_header(tmp_path: Path) -> None:
    """Attribute paths, and the Header: a login's session id goes into later requests'
    headers; the target's new id replaces the recorded one, and nothing else changes."""
    login = exchange(0, "Login", "<c:Login/>",
                     '<c:LoginResponse><c:session id="S-OLD-456"/></c:LoginResponse>')
    later = exchange(1, "Get", "<c:Get><c:ref>CR/2026/000101</c:ref></c:Get>", "<c:GetResponse/>")
    later.request.body = later.request.body.replace(
        b"<s:Body>", b'<s:Header><c:Session id="S-OLD-456">keep</c:Session></s:Header><s:Body>')
    rule = CarryRule(CarryPlace("/cris Login", "/Envelope/Body/LoginResponse/session/@id"),
                     CarryPlace("/cris Get", "/Envelope/Header/Session/@id"))
    with ScriptedBus() as bus:
        bus.reply = Reply(body=login.response.body.replace(b"S-OLD-456", b"S-NEW-123"))  # type: ignore[union-attr]
        summary = replay(plan_replay([login, later]), RecordingStore(tmp_path), bus.url,
                         SendOptions(rate=None), rules=[rule])
        sent = [r.body for r in bus.received]
    assert summary.carried == {rule.describe(): 1} and not summary.not_carried
    assert b'id="S-NEW-123">keep<' in sent[1] and b"S-OLD-456" not in sent[1]
    assert b"CR/2026/000101" in sent[1]
