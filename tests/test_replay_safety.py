"""Replay, noise learning and `compare --target` never resend a write under another spelling.

A recording keeps the path its client wrote. `/%63ris`, `/./cris` and `/pnc/../cris` all reach
the bus's `/cris`, so a recorded `CreateCrimeReport` under any of them is `/cris
CreateCrimeReport`, which the route table says writes: resending it would file a new crime
report. All three commands judge writes in one place (`resend_check`), on the normalised path;
a path with no one meaning (an encoded slash, `;` parameters, a backslash) is never sent.

The target is a real HTTP server on loopback that keeps what it received.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from turnout.cli import main
from turnout.cli._noise import learn_noise_command
from turnout.compare import TargetAnswers, compare_recordings
from turnout.recording import (
    SKIP_BAD_PATH,
    SKIP_WRITE,
    Exchange,
    RecordingStore,
    SendOptions,
    normalised_key,
    plan_replay,
    read_recordings,
    replay,
    resend_check,
    write_keys,
)
from turnout.soap import BadTarget, HttpRequest, HttpResponse, OperationName

from .support.bus import Reply, ScriptedBus

CRIS = "urn:police:cris:v1"
PNC = "urn:police:pnc:v1"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
ODD_SPELLINGS = ("/%63ris", "/./cris", "/pnc/../cris")
WRITE = "/cris CreateCrimeReport"
READ = "/pnc PersonEnquiry"


def envelope(namespace: str, name: str) -> bytes:
    return (f'<s:Envelope xmlns:s="{SOAP}"><s:Body><o:{name} xmlns:o="{namespace}">'
            f"<o:ref>1</o:ref></o:{name}></s:Body></s:Envelope>").encode()


def recorded(path: str, name: str = "CreateCrimeReport", namespace: str = CRIS,
             service: str | None = None) -> Exchange:
    """An exchange as a proxy that did not normalise paths recorded it: keyed by the path the
    client wrote."""
    return Exchange(
        request=HttpRequest("POST", path, [("Content-Type", "text/xml; charset=utf-8"),
                                           ("SOAPAction", f'"{namespace}#{name}"')],
                            envelope(namespace, name)),
        client="127.0.0.1",
        operation=OperationName(service if service is not None else path, name, namespace),
        soap_version="1.1",
        response=HttpResponse(200, [("Content-Type", "text/xml")], envelope(namespace, name + "Response")),
    )


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    """The three odd spellings of the write, and one read, on disk."""
    store = RecordingStore(tmp_path / "recs")
    for path in ODD_SPELLINGS:
        store.write(recorded(path))
    store.write(recorded("/pnc", "PersonEnquiry", PNC))
    return tmp_path / "recs"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The write declared, and the read too: only declared reads are sent again."""
    path = tmp_path / "turnout.yaml"
    path.write_text(f"upstream: http://127.0.0.1:9\nroutes:\n  {WRITE}: {{mode: legacy, writes: true}}\n"
                    f"  {READ}: {{mode: legacy}}\n")
    return path


@pytest.fixture
def bus() -> Iterator[ScriptedBus]:
    with ScriptedBus() as scripted:
        scripted.reply = Reply(body=envelope(PNC, "PersonEnquiryResponse"))
        yield scripted


def received_paths(bus: ScriptedBus) -> list[str]:
    return [r.path for r in bus.received]


# -- turnout replay -------------------------------------------------------------------------


def test_replay_skips_a_write_under_every_spelling_of_its_path(
    recordings: Path, bus: ScriptedBus, tmp_path: Path
) -> None:
    exchanges, errors = read_recordings(recordings)
    assert not errors and len(exchanges) == 4
    plan = plan_replay(exchanges, write_keys([WRITE]).__contains__)
    summary = replay(plan, RecordingStore(tmp_path / "out"), bus.url, SendOptions(rate=None))
    assert received_paths(bus) == ["/pnc"]  # the read went; none of the three writes did
    assert summary.sent == 1 and summary.skipped_writes == 3
    assert {s.operation for s in summary.skipped} == {WRITE}  # named as the bus runs it


def test_the_replay_command_skips_them_with_a_config(
    recordings: Path, config: Path, bus: ScriptedBus, tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, ["replay", str(recordings), "--target", bus.url,
                                       "--rate", "500", "--config", str(config),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert received_paths(bus) == ["/pnc"]
    assert f"skipped writes │ 3  {WRITE} ×3" in result.output


def test_with_include_writes_they_are_sent(
    recordings: Path, config: Path, bus: ScriptedBus, tmp_path: Path
) -> None:
    """The control: the same recordings do reach the bus when writes are asked for, and what
    the bus is asked for is `/cris` three times (the HTTP client normalises the path too)."""
    result = CliRunner().invoke(main, ["replay", str(recordings), "--target", bus.url,
                                       "--rate", "500", "--config", str(config),
                                       "--include-writes", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(received_paths(bus)) == ["/cris", "/cris", "/cris", "/pnc"]


@pytest.mark.parametrize("path", ["/cris%2fx", "/cris;jsessionid=1", "/cr\\is", "/cris%00"])
def test_a_path_with_no_one_meaning_is_never_sent(
    path: str, bus: ScriptedBus, tmp_path: Path
) -> None:
    store = RecordingStore(tmp_path / "recs")
    store.write(recorded(path))
    store.write(recorded("/pnc", "PersonEnquiry", PNC))
    exchanges, _ = read_recordings(tmp_path / "recs")
    plan = plan_replay(exchanges, include_writes=True, include_unreadable=True)
    assert [s.reason for s in plan.skipped] == [SKIP_BAD_PATH]
    replay(plan, RecordingStore(tmp_path / "out"), bus.url, SendOptions(rate=None))
    assert received_paths(bus) == ["/pnc"]


def test_an_unreadable_recording_with_such_a_path_is_never_sent_either() -> None:
    unnamed = Exchange(request=HttpRequest("POST", "/x%2f..%2fcris", [], b"junk"), client="c",
                       outcome="unreadable")
    plan = plan_replay([unnamed], include_writes=True, include_unreadable=True)
    assert not plan.send and [s.reason for s in plan.skipped] == [SKIP_BAD_PATH]


def test_the_path_a_resend_puts_on_the_request_line_counts_too() -> None:
    """A hand-edited recording: its operation says /pnc, its request line /cris. The bus runs
    what the request line says."""
    edited = recorded("/cris", service="/pnc")
    assert resend_check(edited, write_keys([WRITE]).__contains__) == (
        "/pnc CreateCrimeReport", SKIP_WRITE)


def test_case_folds_only_when_the_bus_does() -> None:
    upper = recorded("/CRIS")
    is_write = write_keys([WRITE]).__contains__
    assert resend_check(upper, is_write) == ("/CRIS CreateCrimeReport", None)
    assert resend_check(upper, write_keys([WRITE], True).__contains__, True) == (WRITE, SKIP_WRITE)
    plan = plan_replay([upper], write_keys([WRITE], True).__contains__, case_insensitive=True)
    assert not plan.send and plan.skipped[0].reason == SKIP_WRITE


def test_normalised_keys() -> None:
    assert normalised_key("/%63ris CreateCrimeReport") == WRITE
    assert normalised_key("/pnc/../cris/ CreateCrimeReport") == WRITE
    assert normalised_key("//cris//./ CreateCrimeReport") == WRITE
    assert normalised_key("/CRIS CreateCrimeReport", case_insensitive=True) == WRITE
    assert normalised_key("/a%20b X") == "/a%20b X"
    with pytest.raises(BadTarget):
        normalised_key("/cris%2F X")
    # the route table's own keys are normalised alike; one that cannot be is kept as written
    assert write_keys(["/./cris CreateCrimeReport", "/x;y Op"]) == {WRITE, "/x;y Op"}


# -- noise learning -------------------------------------------------------------------------


def test_noise_learning_sends_none_of_them(
    recordings: Path, config: Path, bus: ScriptedBus, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = learn_noise_command(recordings, bus.url, tmp_path / "rules.yaml", config,
                               rate=1000, gap=0)
    output = capsys.readouterr().out
    assert code == 0, output
    assert received_paths(bus) == ["/pnc", "/pnc"]  # the read, twice; never a write
    assert f"writes are never replayed: skipped 3 ({WRITE} ×3)" in output


# -- compare --target -----------------------------------------------------------------------


def test_compare_against_a_live_target_sends_none_of_them(
    recordings: Path, bus: ScriptedBus
) -> None:
    with TargetAnswers(bus.url, writes=[WRITE]) as live:
        report = compare_recordings(recordings, live)
    assert received_paths(bus) == ["/pnc"]
    assert [item.reason for item in report.not_compared] == ["a write: not sent again"] * 3
    assert len(report.samples) == 1


def test_compare_command_with_target_sends_none_of_them(
    recordings: Path, config: Path, bus: ScriptedBus
) -> None:
    result = CliRunner().invoke(main, ["compare", str(recordings), "--target", bus.url,
                                       "--config", str(config)])
    assert "Traceback" not in result.output
    assert received_paths(bus) == ["/pnc"]
    assert "a write: not sent again" in result.output


def test_compare_never_sends_a_path_with_no_one_meaning(bus: ScriptedBus, tmp_path: Path) -> None:
    RecordingStore(tmp_path).write(recorded("/pnc;x=1", "PersonEnquiry", PNC))
    with TargetAnswers(bus.url) as live:
        report = compare_recordings(tmp_path, live)
    assert bus.received == []
    assert [item.reason for item in report.not_compared] == [
        "the recorded path has no one meaning: not sent"]
