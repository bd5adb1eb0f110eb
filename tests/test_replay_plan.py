"""Replay, `compare --target` and noise learning send only operations declared as reads.

The recordings hold what a force's bus sees: a declared read, a read the route file does not
mention, two writes the route file does not mention either (CreateCrimeReport,
SubmitWitnessStatement: before, they went to the bus, twice each when learning noise, each
time making a record, and the new reference was then proposed as noise), and a declared read
whose name looks like a write. One planner (`ReplayPolicy`) decides for all three commands:

- a declared read is sent (listed in the route file with writes false, in any mode, or by a
  translator that says writes false);
- an operation nothing declares is sent only when named with --operation and confirmed a read
  (asked, or --yes);
- a name that starts with a verb that writes needs --include-writes, even declared or named.

The target is a real HTTP server on loopback that keeps what it received.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from turnout.cli import main
from turnout.cli._noise import learn_noise_command
from turnout.recording import Exchange, RecordingStore
from turnout.recording._replay import (
    SKIP_UNDECLARED, SKIP_WRITE, SKIP_WRITE_NAME, ReplayPolicy, write_verb,
)
from turnout.soap import HttpRequest, HttpResponse, OperationName

from .support.bus import Reply, ScriptedBus

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
DECLARED_READ = ("/pnc", "PersonEnquiry", "urn:police:pnc:v1")
UNDECLARED_READ = ("/pnc", "VehicleEnquiry", "urn:police:pnc:v1")
UNDECLARED_WRITES = (("/cris", "CreateCrimeReport", "urn:police:cris:v1"),
                     ("/eforms", "SubmitWitnessStatement", "urn:police:eforms:v1"))
WRITE_NAMED_READ = ("/cris", "RecordSearch", "urn:police:cris:v1")  # declared a read
DECLARED_WRITE = ("/cris", "AmendCrimeReport", "urn:police:cris:v1")


def key(op: tuple[str, str, str]) -> str:
    return f"{op[0]} {op[1]}"


def envelope(namespace: str, name: str) -> bytes:
    return (f'<s:Envelope xmlns:s="{SOAP}"><s:Body><o:{name} xmlns:o="{namespace}">'
            f"<o:ref>1</o:ref></o:{name}></s:Body></s:Envelope>").encode()


def recorded(op: tuple[str, str, str]) -> Exchange:
    service, name, namespace = op
    return Exchange(
        request=HttpRequest("POST", service, [("Content-Type", "text/xml; charset=utf-8"),
                                              ("SOAPAction", f'"{namespace}#{name}"')],
                            envelope(namespace, name)),
        client="127.0.0.1",
        operation=OperationName(service, name, namespace),
        soap_version="1.1",
        response=HttpResponse(200, [("Content-Type", "text/xml")], envelope(namespace, name + "Response")),
    )


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    store = RecordingStore(tmp_path / "recs")
    for op in (DECLARED_READ, UNDECLARED_READ, *UNDECLARED_WRITES, WRITE_NAMED_READ, DECLARED_WRITE):
        store.write(recorded(op))
    return tmp_path / "recs"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The route file declares the PersonEnquiry read, RecordSearch as a read, and one write;
    nothing else."""
    path = tmp_path / "turnout.yaml"
    path.write_text(
        "upstream: http://127.0.0.1:9\n"
        "routes:\n"
        f"  {key(DECLARED_READ)}: {{mode: legacy}}\n"
        f"  {key(WRITE_NAMED_READ)}: {{mode: legacy, writes: false}}\n"
        f"  {key(DECLARED_WRITE)}: {{mode: legacy, writes: true}}\n"
    )
    return path


@pytest.fixture
def bus() -> Iterator[ScriptedBus]:
    with ScriptedBus() as scripted:
        scripted.reply = Reply(body=envelope(DECLARED_READ[2], "PersonEnquiryResponse"))
        yield scripted


def received(bus: ScriptedBus) -> list[str]:
    """The operations the bus was asked, by the Body's first element."""
    names = []
    for request in bus.received:
        match = re.search(rb"<o:(\w+) ", request.body)
        names.append(match.group(1).decode() if match else "?")
    return names


def replay(recordings: Path, config: Path | None, tmp_path: Path, *extra: str,
           input: str | None = None) -> str:
    args = ["replay", str(recordings), "--rate", "500",
            "--out", str(tmp_path / f"out-{len(list(tmp_path.iterdir()))}")]
    if config is not None:
        args += ["--config", str(config)]
    return _run(args, extra, input)


def _run(args: list[str], extra: tuple[str, ...], input: str | None) -> str:
    result = CliRunner().invoke(main, [*args, *extra], input=input)
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == 0, result.output
    return result.output


# -- turnout replay -------------------------------------------------------------------------


def test_replay_sends_the_declared_read_and_says_why_it_skipped_the_rest(
    recordings: Path, config: Path, bus: ScriptedBus, tmp_path: Path
) -> None:
    output = replay(recordings, config, tmp_path, "--target", bus.url)
    assert received(bus) == ["PersonEnquiry"]
    assert re.search(r"skipped /pnc VehicleEnquiry ×1: declared neither a read nor a write.*"
                     r"name it with --operation and confirm it is a read", output)
    assert re.search(r"skipped /cris CreateCrimeReport ×1: its name starts with a verb that writes",
                     output)
    assert "skipped /eforms SubmitWitnessStatement ×1: its name starts with a verb that writes" in output
    assert "skipped /cris RecordSearch ×1: its name starts with a verb that writes" in output
    assert "skipped /cris AmendCrimeReport ×1: declared a write" in output


def test_include_writes_sends_declared_writes_and_write_like_reads_but_never_the_undeclared(
    recordings: Path, config: Path, bus: ScriptedBus, tmp_path: Path
) -> None:
    replay(recordings, config, tmp_path, "--target", bus.url, "--include-writes")
    assert sorted(received(bus)) == ["AmendCrimeReport", "PersonEnquiry", "RecordSearch"]


def test_an_undeclared_operation_is_sent_when_named_and_confirmed_a_read(
    recordings: Path, config: Path, bus: ScriptedBus, tmp_path: Path
) -> None:
    named = ("--target", bus.url, "--operation", key(UNDECLARED_READ))
    output = replay(recordings, config, tmp_path, *named, input="n\n")
    assert received(bus) == [] and "Is it a read" in output
    replay(recordings, config, tmp_path, *named, input="y\n")
    assert received(bus) == ["VehicleEnquiry"]  # and only it: --operation names what goes
    replay(recordings, config, tmp_path, *named, "--yes")
    assert received(bus) == ["VehicleEnquiry", "VehicleEnquiry"]


def test_a_write_like_name_needs_include_writes_even_named_and_confirmed(
    recordings: Path, config: Path, bus: ScriptedBus, tmp_path: Path
) -> None:
    create = ("--target", bus.url, "--operation", key(UNDECLARED_WRITES[0]), "--yes")
    replay(recordings, config, tmp_path, *create)
    assert received(bus) == []
    replay(recordings, config, tmp_path, *create, "--include-writes")
    assert received(bus) == ["CreateCrimeReport"]


def test_without_a_config_nothing_is_declared(recordings: Path, bus: ScriptedBus, tmp_path: Path) -> None:
    output = replay(recordings, None, tmp_path, "--target", bus.url)
    assert received(bus) == [] and "no operation is declared a read" in output


def test_every_key_a_folded_mapping_lists_is_declared_by_it(
    recordings: Path, config: Path, bus: ScriptedBus, tmp_path: Path
) -> None:
    """A mapping serving a SOAP 1.1 and a 1.2 port lists two keys; a read for either."""
    mapping = tmp_path / "translators" / "pnc" / "enquiry.yaml"
    mapping.parent.mkdir(parents=True)
    mapping.write_text(
        "name: pnc/Enquiry\n"
        f"operation: ['/pnc/soap11 VehicleEnquiry', '{key(UNDECLARED_READ)}']\n"
        "service: pnc\nwrites: false\nnamespaces: {p: 'urn:police:pnc:v1'}\n"
        "request: {method: GET, path: /vehicles}\n"
        "response: {body: {p:VehicleEnquiryResponse: {p:colour: colour}}}\n"
    )
    config.write_text(config.read_text().replace("routes:\n", "translators: translators\nroutes:\n"))
    replay(recordings, config, tmp_path, "--target", bus.url)
    assert sorted(received(bus)) == ["PersonEnquiry", "VehicleEnquiry"]


# -- compare --target -----------------------------------------------------------------------


def test_compare_against_a_target_sends_only_the_declared_read(
    recordings: Path, config: Path, bus: ScriptedBus
) -> None:
    result = CliRunner().invoke(main, ["compare", str(recordings), "--target", bus.url,
                                       "--config", str(config)])
    assert "Traceback" not in result.output
    assert received(bus) == ["PersonEnquiry"]
    assert "not declared a read" in result.output
    assert "a verb that writes: not sent without --include-writes" in result.output
    assert "a write: not sent again" in result.output
    # --include-writes lifts the name guard for the declared read, never for a declared write
    # nor for what nothing declares
    CliRunner().invoke(main, ["compare", str(recordings), "--target", bus.url,
                              "--config", str(config), "--include-writes"])
    assert sorted(received(bus)) == ["PersonEnquiry", "PersonEnquiry", "RecordSearch"]


# -- noise learning -------------------------------------------------------------------------


def test_learning_noise_sends_only_the_declared_read(
    recordings: Path, config: Path, bus: ScriptedBus, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = learn_noise_command(recordings, bus.url, tmp_path / "rules.yaml", config,
                               rate=1000, gap=0)
    output = capsys.readouterr().out
    assert code == 0, output
    assert received(bus) == ["PersonEnquiry", "PersonEnquiry"]
    assert "skipped /cris CreateCrimeReport ×1: its name starts with a verb that writes" in output
    assert "skipped /pnc VehicleEnquiry ×1: declared neither a read nor a write" in output
    assert "writes are never replayed: skipped 1 (/cris AmendCrimeReport ×1)" in output


def test_learning_noise_through_compare_takes_a_named_read(
    recordings: Path, config: Path, bus: ScriptedBus, tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, [
        "compare", str(recordings), "--learn-noise", "--target", bus.url, "--config", str(config),
        "--rules", str(tmp_path / "rules.yaml"), "--operation", key(UNDECLARED_READ), "--yes"])
    assert "Traceback" not in result.output
    assert received(bus) == ["VehicleEnquiry", "VehicleEnquiry"]


# -- the planner itself ---------------------------------------------------------------------


def test_write_verbs_are_leading_words_not_prefixes() -> None:
    assert [write_verb(n) for n in ("CreateCrimeReport", "create_crime_report", "SetStatus",
                                    "AddNote", "FileStatement", "RecordIncident", "PostNotice")] == [
        "Create", "create", "Set", "Add", "File", "Record", "Post"]
    assert [write_verb(n) for n in ("AddressLookup", "Settings", "PersonEnquiry", "PostcodeSearch",
                                    "GetCrimeReport", "Filed")] == [None] * 6


def test_one_policy_judges_every_case() -> None:
    policy = ReplayPolicy(writes=frozenset({key(DECLARED_WRITE)}),
                          reads=frozenset({key(DECLARED_READ), key(WRITE_NAMED_READ)}))
    verdicts = {op[1]: policy.check(recorded(op))[1]
                for op in (DECLARED_READ, UNDECLARED_READ, *UNDECLARED_WRITES, WRITE_NAMED_READ,
                           DECLARED_WRITE)}
    assert verdicts == {"PersonEnquiry": None, "VehicleEnquiry": SKIP_UNDECLARED,
                        "CreateCrimeReport": SKIP_WRITE_NAME, "SubmitWitnessStatement": SKIP_WRITE_NAME,
                        "RecordSearch": SKIP_WRITE_NAME, "AmendCrimeReport": SKIP_WRITE}
    # the route file's key and the recorded path agree once normalised
    odd = recorded(("/./pnc", "PersonEnquiry", "urn:police:pnc:v1"))
    assert policy.check(odd) == (key(DECLARED_READ), None)
