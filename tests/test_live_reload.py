"""Operators can trust what they switch: black-box, a real proxy process and the real CLI.

Seen: a translator scaffolded after the proxy started made `routes set ... canary` exit 0 while
the proxy refused the whole table, and from then on every edit, rollbacks included; a mapping
edit needed a restart; a route file truncated to 0 bytes (a save on a full disk) sent every
translated operation back to the bus, and a half-written file was served.

Here every command's exit status is checked against what the proxy serves (requests sent
through it, and its admin endpoint's `GET /routes`), within 3 seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from turnout.recording import RecordingStore
from turnout.routing import Route, caller_id, choose_canary

from .support.bus import Reply, ScriptedBus
from .support.proxy_process import ProxyProcess, free_port

TURNOUT = [sys.executable, "-c", "from turnout.cli import main; main()"]
BUS_ANSWER = b"<from-the-bus/>"
VEHICLE, PERSON, CREATE = "/pnc VehicleEnquiry", "/pnc PersonEnquiry", "/cris CreateCrimeReport"
NS = {"pnc": "urn:police:pnc:v1", "cris": "urn:police:cris:v1"}

PNC_PARTS = "namespaces:\n  p: urn:police:pnc:v1\n"
VEHICLE_MAPPING = """\
name: pnc/VehicleEnquiry
operation: /pnc VehicleEnquiry
service: pnc
include: _pnc.yaml
request:
  method: GET
  path: /vehicles/TB19XKF
response:
  body:
    p:VehicleEnquiryResponse:
      p:colourCode: colour
"""
PERSON_MAPPING = """\
name: pnc/PersonEnquiry
operation: /pnc PersonEnquiry
service: pnc
include: _pnc.yaml
request:
  method: GET
  path: /people/P1
response:
  body:
    p:PersonEnquiryResponse:
      p:surname: colour
"""
CREATE_MAPPING = """\
name: cris/CreateCrimeReport
operation: /cris CreateCrimeReport
service: pnc
writes: true
namespaces: {c: "urn:police:cris:v1"}
request:
  method: POST
  path: /crimes
  body:
    offence: {value: theft}
  dry_run:
    path: /crimes/validate
response:
  body:
    c:CreateCrimeReportResponse:
      c:reference: colour
"""

#: between the first route and the last, so that half the file ends in here: a file cut in
#: half then still parses, and lists only the first route
FILLER = "".join(f"  # note {n:02d}: a comment line of the kind people keep in route files\n"
                 for n in range(24))


def envelope(operation: str) -> bytes:
    service, name = operation.lstrip("/").split(" ")
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<x:{name} xmlns:x="{NS[service]}"><x:ref>AB12CDE</x:ref></x:{name}>'
        "</soap:Body></soap:Envelope>"
    ).encode()


def wait_until(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class Rig:
    """A scripted bus, a scripted JSON service, a translators directory, a turnout.yaml with an
    admin port, and `turnout proxy` running on them in its own process."""

    def __init__(self, root: Path, bus: ScriptedBus, service: ScriptedBus) -> None:
        self.root, self.bus, self.service = root, bus, service
        self.translators = root / "translators"
        self.admin_port = free_port()
        self.config = root / "turnout.yaml"
        self.proxy: ProxyProcess | None = None

    def translator(self, relative: str, text: str) -> Path:
        path = self.translators / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def head(self) -> str:
        return (
            "# live reload, black-box\n"
            f"upstream: {self.bus.url}\n"
            "timeouts: {upstream: 5}\n"
            "translators: translators\n"
            f"services: {{pnc: {self.service.url}}}\n"
            f"admin: {{port: {self.admin_port}}}\n"
            "recordings: {dir: rec, redaction: {namespaces: {p: 'urn:police:pnc:v1'}, "
            "body: ['//p:surname']}}\n"
            "canary: {sticky_header: X-Officer-Id}\n"
        )

    def write_routes(self, routes: str) -> str:
        text = self.head() + "routes:\n" + routes
        self.config.write_text(text, encoding="utf-8")
        return text

    def start(self) -> "Rig":
        self.proxy = ProxyProcess(self.config).start()
        assert wait_until(self._admin_answers, 10), self.proxy.log
        return self

    def _admin_answers(self) -> bool:
        try:
            self.routes()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()

    # -- what the proxy serves ----------------------------------------------------------------

    def post(self, operation: str, officer: str = "PC1") -> bytes:
        assert self.proxy is not None
        service, name = operation.lstrip("/").split(" ")
        status, _, body = self.proxy.request("POST", f"/{service}", envelope(operation), {
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS[service]}#{name}"',
            "X-Officer-Id": officer,
        })
        assert status in (200, 500), (status, body)
        return body

    def reached_bus(self, operation: str) -> int:
        name = operation.split(" ")[1].encode()
        return sum(1 for r in self.bus.received if b":" + name + b" " in r.body)

    def routes(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/routes", timeout=3) as reply:
            return dict(json.load(reply))

    def mode(self, operation: str) -> str:
        rows = {row["operation"]: row for row in self.routes()["routes"]}
        row = rows.get(operation)
        if row is None:
            return "legacy"
        return f"canary {row['percent']:g}" if row["mode"] == "canary" else str(row["mode"])

    def served_by_translator(self, operation: str) -> bool:
        return BUS_ANSWER not in self.post(operation)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*TURNOUT, *args, "-c", str(self.config)], capture_output=True,
                              text=True, timeout=60, cwd=self.root)


@pytest.fixture
def bus() -> Iterator[ScriptedBus]:
    with ScriptedBus() as scripted:
        scripted.reply = Reply(body=BUS_ANSWER)
        yield scripted


@pytest.fixture
def service() -> Iterator[ScriptedBus]:
    with ScriptedBus() as scripted:
        scripted.reply = Reply(headers=[("Content-Type", "application/json")],
                               body=b'{"colour": "blue"}')
        yield scripted


@pytest.fixture
def rig(tmp_path: Path, bus: ScriptedBus, service: ScriptedBus) -> Iterator[Rig]:
    made = Rig(tmp_path, bus, service)
    made.translator("pnc/_pnc.yaml", PNC_PARTS)
    made.translator("pnc/vehicle_enquiry.yaml", VEHICLE_MAPPING)
    yield made
    made.stop()


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


# --- a translator scaffolded after start, a canary, a rollback ----------------------------------


def test_a_translator_added_after_start_then_a_canary_then_a_rollback_each_as_the_cli_says(
    rig: Rig,
) -> None:
    rig.write_routes(f"  {PERSON}: {{mode: legacy}}\n  {VEHICLE}: {{mode: translator}}\n")
    rig.start()
    assert rig.mode(PERSON) == "legacy" and "pnc/PersonEnquiry" not in rig.routes().get("translators", {})

    rig.translator("pnc/person_enquiry.yaml", PERSON_MAPPING)  # scaffolded while it runs
    canary = rig.cli("routes", "set", PERSON, "canary", "--percent", "10")
    assert canary.returncode == 0, output(canary)
    assert wait_until(lambda: rig.mode(PERSON) == "canary 10")
    assert "in force" in canary.stdout
    served = rig.routes()
    assert served["refused"] is None and served["version"] >= 2
    assert len(served["translators"]["pnc/PersonEnquiry"]) == 12
    officers = [f"PC{n}" for n in range(60)]
    canary_route = Route(PERSON, "canary", percent=10)  # who gets the translator, as documented
    chosen = {o for o in officers
              if choose_canary(canary_route, caller_id({"x-officer-id": o}, "", "X-Officer-Id"))}
    assert 0 < len(chosen) < len(officers)
    before = rig.reached_bus(PERSON)
    answers = {officer: rig.post(PERSON, officer) for officer in officers}
    assert {o for o, body in answers.items() if BUS_ANSWER not in body} == chosen
    assert rig.reached_bus(PERSON) - before == len(officers) - len(chosen)
    assert all(b"blue" in answers[o] for o in chosen)

    rollback = rig.cli("routes", "set", PERSON, "legacy")
    assert rollback.returncode == 0, output(rollback)
    assert wait_until(lambda: rig.mode(PERSON) == "legacy")
    before = rig.reached_bus(PERSON)
    for officer in sorted(chosen):
        assert rig.post(PERSON, officer) == BUS_ANSWER
    assert rig.reached_bus(PERSON) - before == len(chosen)
    assert rig.served_by_translator(VEHICLE)  # the rest as it was


# --- mapping edits: live, versioned, and refused when broken -------------------------------------


def test_a_mapping_edit_takes_effect_without_a_restart_and_is_recorded_by_version(rig: Rig) -> None:
    rig.write_routes(f"  {VEHICLE}: {{mode: translator}}\n")
    rig.start()
    assert b"<p:colourCode>blue</p:colourCode>" in rig.post(VEHICLE)
    first = rig.routes().get("translators", {}).get("pnc/VehicleEnquiry")

    rig.translator("pnc/vehicle_enquiry.yaml",
                   VEHICLE_MAPPING.replace("p:colourCode: colour", 'p:colourCode: {value: EDITED}'))
    assert wait_until(lambda: b"EDITED" in rig.post(VEHICLE))
    assert first is not None and len(first) == 12
    second = rig.routes()["translators"]["pnc/VehicleEnquiry"]
    assert second != first and rig.routes()["refused"] is None

    rig.translator("pnc/_pnc.yaml", PNC_PARTS + "# shared by every pnc mapping\n")  # an include
    assert wait_until(lambda: rig.routes()["translators"]["pnc/VehicleEnquiry"] != second)
    third = rig.routes()["translators"]["pnc/VehicleEnquiry"]
    rig.post(VEHICLE)

    def versions() -> list[str]:
        return [e.translation.get("translator_version")
                for e in RecordingStore(rig.root / "rec").iter_exchanges() if e.translation]

    assert wait_until(lambda: {first, second, third} <= set(versions()), 5)
    assert rig.reached_bus(VEHICLE) == 0

    # a broken mapping is refused by file and line; the last good translator keeps answering
    broken = rig.translator("pnc/vehicle_enquiry.yaml",
                            VEHICLE_MAPPING.replace("method: GET", "method: TELEPORT"))
    assert wait_until(lambda: rig.routes()["refused"] is not None)
    refused = rig.routes()["refused"]
    assert refused["file"] == str(broken) and refused["line"] == 6
    assert rig.routes()["translators"]["pnc/VehicleEnquiry"] == third
    assert b"<p:colourCode>EDITED</p:colourCode>" in rig.post(VEHICLE)
    assert "route change refused" in rig.proxy.log and "vehicle_enquiry.yaml:6" in rig.proxy.log


# --- damaged route files: refused while the old table serves -------------------------------------


def _truncate(path: Path, text: str) -> None:
    path.write_bytes(b"")


def _without_routes_section(path: Path, text: str) -> None:
    path.write_text(text.split("routes:\n")[0], encoding="utf-8")


def _dropping_an_operation(path: Path, text: str) -> None:
    path.write_text(text.replace(f"  {VEHICLE}: {{mode: translator}}\n", ""), encoding="utf-8")


def _half_written(at_line_end: bool) -> Callable[[Path, str], None]:
    def write(path: Path, text: str) -> None:
        middle = len(text) // 2
        cut = text.index("\n", middle) + 1 if at_line_end else middle
        assert FILLER[:20] in text[:cut] and VEHICLE not in text[text.index("routes:"):cut]
        with path.open("w", encoding="utf-8") as handle:  # what a non-atomic save does
            handle.write(text[:cut])
            handle.flush()
            time.sleep(1.5)  # three polls of the proxy's watcher
            handle.write(text[cut:])
    return write


@pytest.mark.parametrize("damage", [
    pytest.param(_truncate, id="truncated-to-0-bytes"),
    pytest.param(_without_routes_section, id="no-routes-section"),
    pytest.param(_dropping_an_operation, id="an-operation-dropped"),
    pytest.param(_half_written(at_line_end=False), id="half-written-mid-line"),
    pytest.param(_half_written(at_line_end=True), id="half-written-at-a-line-end"),
])
def test_a_damaged_route_file_is_refused_while_the_old_table_serves(
    rig: Rig, damage: Callable[[Path, str], None],
) -> None:
    text = rig.write_routes(f"  {PERSON}: {{mode: legacy}}\n{FILLER}  {VEHICLE}: {{mode: translator}}\n")
    rig.start()
    answers: list[bytes] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            answers.append(rig.post(VEHICLE))

    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        damage(rig.config, text)
        time.sleep(2.5)  # five polls: time enough to take it, were it taken
        damaged = rig.routes()
    finally:
        stop.set()
        sender.join()
    assert len(answers) > 20 and rig.reached_bus(VEHICLE) == 0
    assert all(b"blue" in body for body in answers)
    assert damaged["version"] == 1 and rig.mode(VEHICLE) == "translator"
    if rig.config.read_text() == text:  # the half-written file, once whole, is the same table
        assert damaged["refused"] is None or str(rig.config) == damaged["refused"]["file"]
    else:
        assert damaged["refused"]["file"] == str(rig.config)
        assert "route change refused" in rig.proxy.log
    if damage is _dropping_an_operation:
        assert VEHICLE in damaged["refused"]["message"] and "mode: legacy" in damaged["refused"]["message"]

    rig.config.write_text(text, encoding="utf-8")  # put right: nothing refused any more
    assert wait_until(lambda: rig.routes()["refused"] is None)


# --- rollbacks: a read always, a write by decision ----------------------------------------------


@pytest.mark.parametrize("breakage", [
    pytest.param(("  /geo ResolveLocation: {mode: translator}\n", "geo/ResolveLocation"),
                 id="another-route-names-a-missing-translator"),
    pytest.param(("  /geo ResolveLocation: {mode: sideways}\n", "sideways"),
                 id="another-route-has-an-invalid-mode"),
])
def test_a_read_goes_back_to_legacy_whatever_else_is_broken(rig: Rig, breakage: tuple[str, str]) -> None:
    rig.translator("pnc/person_enquiry.yaml", PERSON_MAPPING)
    text = rig.write_routes(f"  {PERSON}: {{mode: translator}}\n  {VEHICLE}: {{mode: translator}}\n")
    rig.start()
    line, words = breakage
    rig.config.write_text(text + line, encoding="utf-8")  # someone's mistake, refused
    time.sleep(1.5)  # the proxy has seen it
    assert rig.served_by_translator(VEHICLE) and rig.served_by_translator(PERSON)

    rollback = rig.cli("routes", "set", VEHICLE, "legacy")
    assert rollback.returncode == 0, output(rollback)
    assert words in rollback.stderr  # the other problem is shown, and did not block the rollback
    assert wait_until(lambda: rig.mode(VEHICLE) == "legacy")
    before = rig.reached_bus(VEHICLE)
    assert rig.post(VEHICLE) == BUS_ANSWER and rig.reached_bus(VEHICLE) == before + 1
    served = rig.routes()
    assert rig.mode(PERSON) == "translator" and rig.mode("/geo ResolveLocation") == "legacy"
    assert served["refused"] is not None and words in served["refused"]["message"]
    assert f"{VEHICLE}: mode translator -> legacy" in served["refused"]["applied"]
    assert rig.served_by_translator(PERSON)


def test_a_write_goes_back_to_legacy_only_with_force_and_a_reason(rig: Rig) -> None:
    rig.translator("cris/create_crime_report.yaml", CREATE_MAPPING)
    text = rig.write_routes(f"  {CREATE}: {{mode: translator, writes: true}}\n"
                            f"  {VEHICLE}: {{mode: translator}}\n")
    rig.start()
    assert rig.served_by_translator(CREATE)

    refused = rig.cli("routes", "set", CREATE, "legacy")
    assert refused.returncode == 1, output(refused)
    assert "system of record" in refused.stderr and "--force --reason" in refused.stderr
    assert rig.config.read_text() == text
    time.sleep(1.0)
    assert rig.mode(CREATE) == "translator" and rig.served_by_translator(CREATE)

    # by hand, with the file broken elsewhere, the proxy does not move the write either
    rig.config.write_text(text.replace(f"{CREATE}: {{mode: translator", f"{CREATE}: {{mode: legacy")
                          + "  /geo ResolveLocation: {mode: translator}\n", encoding="utf-8")
    assert wait_until(lambda: rig.routes()["refused"] is not None)
    assert rig.mode(CREATE) == "translator" and rig.routes()["refused"]["applied"] == []
    rig.config.write_text(text, encoding="utf-8")
    assert wait_until(lambda: rig.routes()["refused"] is None)

    forced = rig.cli("routes", "set", CREATE, "legacy", "--force", "--reason", "service withdrawn")
    assert forced.returncode == 0, output(forced)
    assert "reason: service withdrawn" in rig.config.read_text()
    assert wait_until(lambda: rig.mode(CREATE) == "legacy")
    before = rig.reached_bus(CREATE)
    assert rig.post(CREATE) == BUS_ANSWER and rig.reached_bus(CREATE) == before + 1


# --- the parts, directly -------------------------------------------------------------------------


def test_a_translator_version_is_a_stable_hash_of_its_own_files(tmp_path: Path) -> None:
    from turnout.translators import load_translators

    directory = tmp_path / "translators"
    for relative, text in (("pnc/_pnc.yaml", PNC_PARTS), ("pnc/vehicle_enquiry.yaml", VEHICLE_MAPPING),
                           ("cris/create_crime_report.yaml", CREATE_MAPPING)):
        (directory / relative).parent.mkdir(parents=True, exist_ok=True)
        (directory / relative).write_text(text, encoding="utf-8")
    first, again = load_translators(directory), load_translators(directory)
    assert first.versions == again.versions and len(first.versions["pnc/VehicleEnquiry"]) == 12
    assert first["pnc/VehicleEnquiry"].version == first.versions["pnc/VehicleEnquiry"]
    assert first.with_volatiles(first["pnc/VehicleEnquiry"].volatiles).versions == first.versions

    (directory / "pnc/_pnc.yaml").write_text(PNC_PARTS + "# edited\n", encoding="utf-8")
    after = load_translators(directory)
    assert after.versions["pnc/VehicleEnquiry"] != first.versions["pnc/VehicleEnquiry"]
    assert after.versions["cris/CreateCrimeReport"] == first.versions["cris/CreateCrimeReport"]


def test_set_route_rolls_a_read_back_despite_breakage_elsewhere_and_a_write_only_by_decision(
    tmp_path: Path,
) -> None:
    from turnout.config import ConfigError
    from turnout.routing import WriteRollbackRefused, set_route

    path = tmp_path / "turnout.yaml"
    path.write_text(f"routes:\n  {VEHICLE}: {{mode: translator}}\n"
                    f"  {CREATE}: {{mode: translator, writes: true}}\n"
                    "  /geo ResolveLocation: {mode: sideways}\n", encoding="utf-8")
    with pytest.raises(ConfigError):  # strict, as before, without a list for the problems
        set_route(path, VEHICLE, "legacy")
    problems: list[ConfigError] = []
    table = set_route(path, VEHICLE, "legacy", problems=problems)
    assert table.route_for(VEHICLE).mode == "legacy" and f"{VEHICLE}: {{mode: legacy}}" in path.read_text()
    assert [p.field for p in problems] == ["routes./geo ResolveLocation.mode"]

    with pytest.raises(WriteRollbackRefused) as refused:
        set_route(path, CREATE, "legacy", problems=[])
    assert "system of record" in refused.value.message and refused.value.line == 3
    assert f"{CREATE}: {{mode: translator, writes: true}}" in path.read_text()
    set_route(path, CREATE, "legacy", problems=[], allow_write_rollback=True)
    assert f"{CREATE}: {{mode: legacy, writes: true}}" in path.read_text()
