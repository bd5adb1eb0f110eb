"""`turnout routes set|check` exit 0 only when the running proxy serves what they say.

Black-box: a real proxy process with its admin endpoint, the CLI as a subprocess. The CLI makes
the proxy's own checks with the translators on disk, then waits for the proxy to report the
change in force or its refusal, which it prints with file, line and field, exiting 1.
"""

from __future__ import annotations

import time
from pathlib import Path

from .test_live_reload import (  # noqa: F401 - fixtures
    BUS_ANSWER,
    PERSON,
    VEHICLE,
    VEHICLE_MAPPING,
    Rig,
    bus,
    output,
    rig,
    service,
    wait_until,
)

GET_CRIME = "/cris GetCrimeReport"
GET_CRIME_MAPPING = """\
name: cris/GetCrimeReport
operation: /cris GetCrimeReport
service: cris
namespaces: {c: "urn:police:cris:v1"}
request:
  method: GET
  path: /crimes/C1
response:
  body:
    c:GetCrimeReportResponse:
      c:summary: colour
"""


def test_set_exits_1_with_the_proxys_refusal_when_the_proxy_cannot_take_the_change(rig: Rig) -> None:
    rig.write_routes(f"  {VEHICLE}: {{mode: translator}}\n  {GET_CRIME}: {{mode: legacy}}\n")
    rig.start()
    # a new service and its translator: the file now names the service, the running proxy
    # (whose services: are read at start) has no URL for it
    rig.translator("cris/get_crime_report.yaml", GET_CRIME_MAPPING)
    text = rig.config.read_text()
    rig.config.write_text(text.replace(f"services: {{pnc: {rig.service.url}}}",
                                       f"services: {{pnc: {rig.service.url}, cris: {rig.service.url}}}"))
    time.sleep(1.5)

    result = rig.cli("routes", "set", GET_CRIME, "shadow")
    assert result.returncode == 1, output(result)
    assert "refused" in result.stderr
    line = next(n for n, text in enumerate(rig.config.read_text().splitlines(), 1) if GET_CRIME in text)
    assert f"turnout.yaml:{line}: routes.{GET_CRIME}:" in result.stderr
    assert "calls service 'cris', which has no URL under services:" in result.stderr
    assert rig.mode(GET_CRIME) == "legacy"
    before = len(rig.service.received)
    assert rig.post(GET_CRIME) == BUS_ANSWER
    time.sleep(0.3)
    assert len(rig.service.received) == before  # not shadowed: the proxy did not take it


def test_check_says_ok_only_for_what_the_running_proxy_serves(rig: Rig) -> None:
    text = rig.write_routes(f"  {PERSON}: {{mode: legacy}}\n  {VEHICLE}: {{mode: translator}}\n")
    rig.start()
    checked = rig.cli("routes", "check")
    assert checked.returncode == 0, output(checked)
    assert "in force" in checked.stdout

    # a file valid on its own that drops a route in force: the proxy refuses it, so must check
    rig.config.write_text(text.replace(f"  {VEHICLE}: {{mode: translator}}\n", ""))
    checked = rig.cli("routes", "check")
    assert checked.returncode == 1, output(checked)
    assert f"{rig.config}:" in checked.stderr and "routes: drops /pnc VehicleEnquiry" in checked.stderr
    assert rig.mode(VEHICLE) == "translator"

    rig.config.write_text(text)
    checked = rig.cli("routes", "check")
    assert checked.returncode == 0, output(checked)

    # a mapping edit on disk: check waits until the proxy has it too
    rig.translator("pnc/vehicle_enquiry.yaml",
                   VEHICLE_MAPPING.replace("p:colourCode: colour", "p:colourCode: {value: NEW}"))
    checked = rig.cli("routes", "check")
    assert checked.returncode == 0, output(checked)
    assert b"NEW" in rig.post(VEHICLE)

    listed = rig.cli("routes", "list")
    assert listed.returncode == 0 and "table version" in listed.stdout


def test_set_with_no_proxy_running_writes_the_file_and_says_nothing_was_waited_for(rig: Rig) -> None:
    rig.write_routes(f"  {VEHICLE}: {{mode: legacy}}\n")
    result = rig.cli("routes", "set", VEHICLE, "shadow")
    assert result.returncode == 0, output(result)
    assert "no running proxy answered" in result.stdout
    assert "mode: shadow" in rig.config.read_text()
    started = time.monotonic()
    checked = rig.cli("routes", "check", "--wait", "0")
    assert checked.returncode == 0 and time.monotonic() - started < 10


def test_set_never_reports_success_before_the_proxy_serves_it(rig: Rig, tmp_path: Path) -> None:
    rig.write_routes(f"  {VEHICLE}: {{mode: legacy}}\n  {PERSON}: {{mode: legacy}}\n")
    rig.start()
    for mode in ("translator", "legacy", "shadow", "legacy"):
        extra = ["--force", "--reason", "test"] if mode == "translator" else []
        result = rig.cli("routes", "set", VEHICLE, mode, *extra)
        assert result.returncode == 0, output(result)
        assert rig.mode(VEHICLE) == mode  # at once: the command returned only once it was so
        assert (BUS_ANSWER not in rig.post(VEHICLE)) == (mode == "translator")
