"""The access audit trail (issue 11), through a real `turnout proxy` process and the CLI.

An investigator with the audit key must find every access to one person, and the trail must
name nobody without it: no raw identifier on disk, only the officer's own id and keyed hashes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from turnout.cli import main
from turnout.config import ConfigError, load_proxy_config

from tests.support.bus import Reply, ScriptedBus
from tests.support.proxy_process import ProxyProcess

SUPPORT = Path(__file__).parent / "support" / "translators_for_tests.py"
KEY = "audit-key-for-tests-only-0123456789"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SOAP11 = {"Content-Type": "text/xml; charset=utf-8"}

# The people the requests name: none of these may ever reach the audit files.
PNC_ID = "98/118402B"
OTHER_PNC_ID = "71/004211Q"
SURNAME, FORENAMES, DOB = "WHITTAKER", "JOSEPHINE", "15/01/1979"
REG_MARK = "TB19 XKF"
RAW_VALUES = [PNC_ID, OTHER_PNC_ID, SURNAME, FORENAMES, DOB, "1979-01-15", REG_MARK, "TB19XKF"]


def envelope(body: str, header: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f"{f'<soap:Header>{header}</soap:Header>' if header else ''}<soap:Body>{body}</soap:Body>"
        "</soap:Envelope>"
    ).encode()


def username_token(officer: str) -> str:
    """A WS-Security UsernameToken header (the audit reads its Username; it verifies nothing)."""
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken><wsse:Username>{officer}'
        '</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-'
        'wss-username-token-profile-1.0#PasswordDigest">c2VjcmV0</wsse:Password></wsse:UsernameToken>'
        "</wsse:Security>"
    )


PERSON = envelope(
    f'<p:PersonEnquiry xmlns:p="urn:police:pnc:v1"><p:surname>{SURNAME}</p:surname>'
    f"<p:forenames>{FORENAMES}</p:forenames><p:dateOfBirth>{DOB}</p:dateOfBirth></p:PersonEnquiry>"
)


def crime_report(victim: str, header: str = "") -> bytes:
    return envelope(
        '<c:CreateCrimeReport xmlns:c="urn:police:cris:v1"><c:offenceCode>THEF</c:offenceCode>'
        f"<c:victimPncId>{victim}</c:victimPncId></c:CreateCrimeReport>", header
    )


VEHICLE = envelope(
    f'<p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"><p:registrationMark>{REG_MARK}</p:registrationMark>'
    "</p:VehicleEnquiry>"
)
THREAT = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "' + PNC_ID.encode() + b'">]>'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<p:PersonEnquiry xmlns:p="urn:police:pnc:v1"><p:surname>&e;</p:surname></p:PersonEnquiry>'
    b"</soap:Body></soap:Envelope>"
)


def audit_config(root: Path, bus: ScriptedBus, service: ScriptedBus | None = None, *,
                 record: bool = True, retention: int | None = None) -> Path:
    (root / "keys").mkdir(exist_ok=True)
    (root / "keys" / "audit.key").write_text(KEY + "\n")
    lines = [
        f"upstream: {bus.url}",
        "audit:",
        "  dir: audit-trail",
        "  key_file: keys/audit.key",
    ]
    if retention is not None:
        lines.append(f"  retention_days: {retention}")
    if record:
        lines += ["recordings:", "  dir: recordings", "  redaction:",
                  "    namespaces: {p: 'urn:police:pnc:v1', c: 'urn:police:cris:v1'}",
                  "    body: ['//p:surname | //p:forenames | //p:dateOfBirth', '//c:victimPncId']"]
    if service is not None:
        translators = root / "translators"
        translators.mkdir(exist_ok=True)
        shutil.copy(SUPPORT, translators / "test_translators.py")
        lines += [
            "translators: translators",
            f"services: {{pnc: {service.url}}}",
            "routes:",
            "  /pnc VehicleEnquiry: {mode: translator, on_error: fault}",
        ]
    config = root / "turnout.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


def trail_lines(directory: Path, expected: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The trail's lines once there are `expected` of them (it is written in the background)."""
    deadline = time.monotonic() + timeout
    lines: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        lines = [json.loads(raw) for path in sorted(directory.glob("*.jsonl"))
                 for raw in path.read_bytes().splitlines()]
        if len(lines) >= expected:
            break
        time.sleep(0.05)
    return lines


def cli(config: Path, *args: str, input: str | None = None) -> list[dict[str, Any]]:
    """`turnout audit ARGS -c config --json`, its lines parsed."""
    result = CliRunner().invoke(main, ["audit", *args, "-c", str(config), "--json"], input=input)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, proxy_engine: str) -> Iterator[dict[str, Any]]:
    """One proxy (recording on, VehicleEnquiry on its translator) and the requests it audited."""
    root = tmp_path_factory.mktemp("audit")
    with ScriptedBus() as bus, ScriptedBus() as service:
        bus.reply = Reply(body=b"<from-the-bus/>")
        service.reply = Reply(headers=[("Content-Type", "application/json")], body=b'{"colour": "RED"}')
        config = audit_config(root, bus, service)
        sent: dict[str, tuple[int, bytes]] = {}
        with ProxyProcess(config) as proxy:
            def send(name: str, body: bytes, headers: dict[str, str]) -> None:
                status, _, answer = proxy.request("POST", "/" + ("cris" if b"Crime" in body else "pnc"),
                                                  body, {**SOAP11, **headers})
                sent[name] = (status, answer)

            send("person", PERSON, {"X-Officer-Id": "PC5518", "X-Request-Id": "tablet-7:0001"})
            send("victim", crime_report(PNC_ID), {"X-Officer-Id": "PC5518"})
            send("victim-by-token", crime_report(PNC_ID, username_token("PC4127")), {})
            send("other-person", crime_report(OTHER_PNC_ID, username_token("PC4127")), {})
            send("vehicle", VEHICLE, {"X-Officer-Id": "PCSO9001"})
            send("threat", THREAT, {"X-Officer-Id": "PC5518"})
            send("unreadable", b"not xml, surname " + SURNAME.encode(), {"X-Officer-Id": "PC5518"})
            wsdl_status, _, _ = proxy.request("GET", "/pnc?wsdl")
            lines = trail_lines(root / "audit-trail", 7)
            time.sleep(0.3)  # a stray eighth line (the GET) would have arrived by now
            lines = trail_lines(root / "audit-trail", 7)
        yield {"root": root, "config": config, "dir": root / "audit-trail", "lines": lines,
               "sent": sent, "wsdl_status": wsdl_status, "proxy_log": proxy.log}


def by_request(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {line["request_id"]: line for line in lines}


def test_each_operation_request_gets_one_line_and_a_wsdl_get_none(rig) -> None:
    lines = rig["lines"]
    assert rig["wsdl_status"] == 200
    assert len(lines) == 7, rig["proxy_log"]
    assert [line["operation"] for line in lines] == [
        "/pnc PersonEnquiry", "/cris CreateCrimeReport", "/cris CreateCrimeReport",
        "/cris CreateCrimeReport", "/pnc VehicleEnquiry", None, None,
    ]
    assert len({line["request_id"] for line in lines}) == 7
    for line in lines:
        at = datetime.strptime(line["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        assert abs(datetime.now(timezone.utc) - at) < timedelta(minutes=5)
        assert line["subject_verified"] is False
        assert set(line) >= {"request_id", "subject", "operation", "route", "answered_by", "outcome",
                             "status", "identifiers"}


def test_a_line_says_who_asked_what_which_route_answered_and_what_it_named(rig) -> None:
    person, victim, by_token, other, vehicle, threat, unreadable = rig["lines"]
    assert person["request_id"] == "tablet-7:0001"  # the client's X-Request-Id, kept
    assert (person["subject"], person["subject_from"]) == ("PC5518", "x-officer-id")
    assert (person["route"], person["answered_by"], person["outcome"], person["status"]) == (
        "legacy", "legacy", "forwarded", 200)
    assert sorted(i["kind"] for i in person["identifiers"]) == ["name", "surname"]
    assert [i["kind"] for i in victim["identifiers"]] == ["pncId"]
    assert (by_token["subject"], by_token["subject_from"]) == ("PC4127", "wsse-username")
    assert by_token["identifiers"] == victim["identifiers"]  # one person, one hash
    assert other["identifiers"] != victim["identifiers"]
    assert (vehicle["route"], vehicle["answered_by"], vehicle["outcome"], vehicle["status"]) == (
        "translator", "translator", "translated", 200)
    assert [i["kind"] for i in vehicle["identifiers"]] == ["registrationMark"]
    # A refused threat is audited with its outcome, and nothing in it was read.
    assert (threat["outcome"], threat["answered_by"], threat["status"], threat["read"]) == (
        "rejected", "proxy", 500, False)
    assert "threat:doctype" in threat["notes"] and threat["identifiers"] == []
    assert (unreadable["outcome"], unreadable["read"], unreadable["service"]) == ("unreadable", False, "/pnc")
    assert rig["sent"]["vehicle"] == (200, rig["sent"]["vehicle"][1])


def test_who_accessed_a_pnc_id_finds_exactly_the_requests_that_named_it(rig) -> None:
    lines = by_request(rig["lines"])
    expected = [rid for rid, line in lines.items()
                if line["operation"] == "/cris CreateCrimeReport" and line["subject"] in ("PC5518", "PC4127")
                and line["identifiers"] == rig["lines"][1]["identifiers"]]
    assert len(expected) == 2
    for args in ([PNC_ID], [PNC_ID, "--kind", "pncId"], [" 98/118402b ", "--kind", "pncId"]):
        found = cli(rig["config"], "who-accessed", *args)
        assert [line["request_id"] for line in found] == expected
        assert [line["subject"] for line in found] == ["PC5518", "PC4127"]
        assert all(line["matched"] == "pncId" for line in found)
    # From standard input: the value stays out of the shell's history.
    assert [line["request_id"] for line in cli(rig["config"], "who-accessed", "-", input=PNC_ID + "\n")] == expected
    assert cli(rig["config"], "who-accessed", "12/345678Z") == []


def test_who_accessed_a_name_or_a_vehicle_finds_it_in_any_spelling(rig) -> None:
    person_id = rig["lines"][0]["request_id"]
    for value in (f"{SURNAME}, {FORENAMES}, {DOB}", "whittaker, Josephine, 1979-01-15"):
        found = cli(rig["config"], "who-accessed", value, "--kind", "name")
        assert [line["request_id"] for line in found] == [person_id]
        assert found[0]["matched"] == "name (surname, forenames, dateOfBirth)"
    # The enquiry gave all three parts: a person known by surname alone matches it by surname.
    assert [line["request_id"] for line in cli(rig["config"], "who-accessed", "Whittaker", "--kind", "surname")] == [person_id]
    vehicle_id = rig["lines"][4]["request_id"]
    assert [line["request_id"] for line in cli(rig["config"], "who-accessed", "tb19xkf", "--kind", "registrationMark")] == [vehicle_id]


def test_audit_by_an_officer_lists_their_requests(rig) -> None:
    mine = [line["request_id"] for line in rig["lines"] if line["subject"] == "PC5518"]
    assert len(mine) == 4  # person, victim, threat, unreadable
    assert [line["request_id"] for line in cli(rig["config"], "by", "PC5518")] == mine
    assert [line["request_id"] for line in cli(rig["config"], "by", "PC5518", "--since", "7d")] == mine
    assert len(cli(rig["config"], "by", "PC4127")) == 2
    # The table view says the same, and marks the id as claimed, not verified.
    result = CliRunner().invoke(main, ["audit", "by", "PC5518", "-c", str(rig["config"])])
    assert result.exit_code == 0, result.output
    rows = [row for row in result.output.splitlines() if "│ PC5518" in row]
    assert len(rows) == 4 and not any("✓" in row for row in rows)  # claimed, not verified
    assert "tablet-7:0001" in rows[0] and "/pnc PersonEnquiry" in rows[0]


def test_no_raw_identifier_ever_reaches_the_audit_files(rig) -> None:
    files = sorted(rig["dir"].iterdir())
    assert files and all(path.suffix == ".jsonl" for path in files)
    data = b"".join(path.read_bytes() for path in files)
    for value in RAW_VALUES:
        for spelling in {value, value.lower(), value.casefold(), value.replace(" ", "")}:
            assert spelling.encode() not in data, f"raw value {spelling!r} in the audit trail"
    assert KEY.encode() not in data
    assert b"c2VjcmV0" not in data  # nor the token's password
    # The recordings (on here) and the trail are apart: the trail's own directory only.
    assert not list((rig["root"] / "recordings").rglob("*.jsonl"))


def test_the_trail_is_private_to_the_proxy_user(rig) -> None:
    assert stat.S_IMODE(rig["dir"].stat().st_mode) == 0o700
    for path in rig["dir"].iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_proxy_that_records_nothing_still_audits(tmp_path: Path) -> None:
    with ScriptedBus() as bus:
        config = audit_config(tmp_path, bus, record=False)
        assert load_proxy_config(config).record_dir is None
        with ProxyProcess(config) as proxy:
            status, _, _ = proxy.request("POST", "/cris", crime_report(PNC_ID), {**SOAP11, "X-Officer-Id": "PC5518"})
            assert status == 200
        assert proxy.stop() == 0  # SIGTERM at once: the queued line is written before the exit
    lines = trail_lines(tmp_path / "audit-trail", 1, timeout=0.1)
    assert [(line["subject"], line["operation"]) for line in lines] == [("PC5518", "/cris CreateCrimeReport")]
    assert re.search(r"audit\.written\s+│\s+1\b", proxy.log), proxy.log  # counted with the others
    assert not (tmp_path / "recordings").exists()
    assert [line["request_id"] for line in cli(config, "who-accessed", PNC_ID)] == [lines[0]["request_id"]]


def test_prune_removes_old_days_by_command_and_at_start(tmp_path: Path) -> None:
    trail = tmp_path / "audit-trail"
    trail.mkdir(mode=0o755)
    today = datetime.now(timezone.utc).date()
    old, kept = trail / "2020-01-01.jsonl", trail / f"{today - timedelta(days=30)}.jsonl"
    for path in (old, kept):
        path.write_text("")
    with ScriptedBus() as bus:
        config = audit_config(tmp_path, bus, record=False)
        result = CliRunner().invoke(main, ["audit", "prune", "--older-than", "400d", "--dry-run", "-c", str(config)])
        assert result.exit_code == 0 and "would delete 2020-01-01.jsonl" in result.output
        assert old.exists()
        result = CliRunner().invoke(main, ["audit", "prune", "--older-than", "400d", "-c", str(config)])
        assert result.exit_code == 0, result.output
        assert not old.exists() and kept.exists()
        # With audit.retention_days, the proxy prunes when it starts (and tightens the directory).
        config = audit_config(tmp_path, bus, record=False, retention=7)
        with ProxyProcess(config):
            pass
    assert not kept.exists()
    assert stat.S_IMODE(trail.stat().st_mode) == 0o700


def test_the_audit_section_is_checked_at_load_and_the_key_at_start(tmp_path: Path) -> None:
    config = tmp_path / "turnout.yaml"
    config.write_text("upstream: http://127.0.0.1:9\naudit:\n  dir: audit\n")
    with pytest.raises(ConfigError, match="key_env or key_file"):
        load_proxy_config(config)
    config.write_text("upstream: http://127.0.0.1:9\naudit:\n  dir: audit\n  key_file: audit/k\n")
    with pytest.raises(ConfigError, match="beside the audit trail"):
        load_proxy_config(config)
    config.write_text("upstream: http://127.0.0.1:9\nrecordings: {dir: rec}\n"
                      "audit: {dir: rec/audit, key_env: K}\n")
    with pytest.raises(ConfigError, match="own directory"):
        load_proxy_config(config)
    config.write_text("upstream: http://127.0.0.1:9\naudit:\n  dir: audit\n  key_env: K\n"
                      "  identifiers:\n    xpaths:\n      /pnc PersonEnquiry: {pncId: '//p:pncId['}\n")
    with pytest.raises(ConfigError) as error:
        load_proxy_config(config)
    assert error.value.line == 7 and "XPath" in str(error.value)
    # A key that is named but absent stops the proxy before it listens.
    config.write_text("upstream: http://127.0.0.1:9\naudit: {dir: audit, key_env: TURNOUT_TEST_NO_SUCH_KEY}\n")
    os.environ.pop("TURNOUT_TEST_NO_SUCH_KEY", None)
    with pytest.raises(RuntimeError, match="TURNOUT_TEST_NO_SUCH_KEY is not set"):
        ProxyProcess(config).start()


# --- the parts, in process ---------------------------------------------------------------------


def test_a_full_queue_drops_and_counts_and_never_waits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from turnout.audit import AuditTrail

    counted: dict[str, int] = {}
    gate = threading.Event()
    trail = AuditTrail(tmp_path / "trail", max_queue=3,
                       count=lambda name, n: counted.__setitem__(name, counted.get(name, 0) + n))
    real_append = trail._append
    monkeypatch.setattr(trail, "_append", lambda lines: (gate.wait(10), real_append(lines)))
    line = {"v": 1, "time": "2026-11-30T10:00:00.000000Z", "request_id": "r"}
    started = time.perf_counter()
    accepted = sum(trail.submit(dict(line)) for _ in range(50))  # a disk that hangs
    assert time.perf_counter() - started < 0.5
    assert 3 <= accepted <= 4 and counted["audit.dropped"] == 50 - accepted == trail.dropped
    gate.set()
    assert trail.close(timeout=10)
    assert trail.written == accepted == counted["audit.written"]
    assert len((tmp_path / "trail" / "2026-11-30.jsonl").read_bytes().splitlines()) == accepted


def test_a_torn_last_line_is_skipped_and_said(rig, tmp_path: Path) -> None:
    trail = tmp_path / "audit-trail"
    shutil.copytree(rig["dir"], trail)
    config = tmp_path / "turnout.yaml"
    config.write_text(rig["config"].read_text())
    shutil.copytree(rig["root"] / "keys", tmp_path / "keys")
    day = sorted(trail.glob("*.jsonl"))[-1]
    with day.open("ab") as handle:
        handle.write(b'{"v":1,"time":"2026-')  # a power cut mid-write
    result = CliRunner().invoke(main, ["audit", "who-accessed", PNC_ID, "-c", str(config), "--json"])
    assert result.exit_code == 0
    assert len([line for line in result.stdout.splitlines() if line.startswith("{")]) == 2
    assert "1 lines could not be read" in result.stderr


def test_identifiers_by_xpath_per_operation_and_by_configured_names(tmp_path: Path) -> None:
    from turnout.audit import AuditKey, IdentifierFinder, search_terms, kinds_of
    from turnout.soap import read_envelope

    config = tmp_path / "turnout.yaml"
    config.write_text(
        "upstream: http://127.0.0.1:9\naudit:\n  dir: audit\n  key_env: K\n  identifiers:\n"
        "    namespaces: {p: 'urn:police:pnc:v1'}\n"
        "    names: {pncId: [pncId], postcode: postcode}\n"
        "    combined: {person: [surname, dateOfBirth]}\n"
        "    xpaths:\n"
        "      /pnc PersonEnquiry:\n"
        "        person: ['//p:surname', '//p:dateOfBirth']\n"
    )
    settings = load_proxy_config(config).audit
    assert settings is not None
    key = AuditKey(KEY.encode())
    finder = IdentifierFinder(settings, key)
    found, truncated = finder.find(read_envelope(PERSON, "/pnc"))
    assert [f.kind for f in found] == ["person"] and not truncated  # by XPath: no surname kind
    terms = search_terms(key, f"{SURNAME}, {DOB}", kinds_of(finder), "person")
    assert found[0].hmac in terms
    other = envelope('<c:X xmlns:c="urn:other"><c:postcode>AL4 2CJ</c:postcode><c:surname>A</c:surname>'
                     '<c:dateOfBirth>01/02/1990</c:dateOfBirth></c:X>')
    found, _ = finder.find(read_envelope(other, "/other"))
    assert sorted(f.kind for f in found) == ["person", "postcode"]
    assert found[0].hmac == key.of("postcode", "al42cj")


def test_the_caller_is_read_not_trusted_and_free_text_never_kept() -> None:
    from turnout.audit import safe_notes, subject_of
    from turnout.soap import read_envelope

    token = read_envelope(envelope("<p:X xmlns:p='urn:p'/>", username_token("PC4127")), "/pnc")
    who = subject_of([("X-Officer-Id", "PC5518")], token)
    assert (who.id, who.source, who.verified, who.also_claimed) == ("PC4127", "wsse-username", False, "PC5518")
    assert subject_of([("X-Officer-Id", "John Whittaker of 12 Acacia Ave")], None).id == "unusable"

    class Verified:
        subject, method = "PC5518", "username-token"

    assert subject_of([], token, Verified()).verified is True
    assert safe_notes(["unreadable: Start tag expected, '<' not found WHITTAKER", "threat:doctype",
                       "fallback:timeout"]) == ["unreadable", "threat:doctype", "fallback:timeout"]
