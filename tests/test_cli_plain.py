"""The CLI speaks plainly: error text printed as it is and on one line, filters honoured in every
view, `recordings show` with every part of an exchange, `turnout proxy` reading ./turnout.yaml,
a taken port in one line, relative paths said relative to what, and routes changed without the
pseudonymisation key (only recording needs it)."""

from __future__ import annotations

import re
import socket
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from turnout.cli import main
from turnout.demo.config import write_demo_config
from turnout.recording import Exchange, RecordingStore
from turnout.soap import HttpRequest, HttpResponse, OperationName

from .support.bus import ScriptedBus
from .support.proxy_process import TURNOUT, ProxyProcess, free_port

WSDL = Path(__file__).parent / "wsdl" / "two-segment-path" / "merlin.wsdl"
UNSET_KEY = "TURNOUT_TEST_KEY_THAT_IS_NOT_SET"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


# --- error text: printed as it is, one line -------------------------------------------------


def test_error_text_keeps_its_brackets_and_stays_on_one_line(tmp_path: Path) -> None:
    out = tmp_path / "a-directory-with-a-name-long-enough-to-push-the-message-past-the-width"
    assert run("scaffold", str(WSDL), "--out", str(out)).exit_code == 0
    [mapping] = (out / "translators").rglob("*.yaml")
    text = mapping.read_text()
    assert "merlinservice:status: status" in text
    mapping.write_text(text.replace("merlinservice:status: status",
                                    'merlinservice:status: "the status!"', 1))
    config = tmp_path / "turnout.yaml"
    config.write_text(f"upstream: http://127.0.0.1:1\ntranslators: {out / 'translators'}\n")

    result = run("routes", "check", "-c", str(config))

    assert result.exit_code == 1
    [line] = error_lines(result.output)  # one error, one line (no hard wrap at the width)
    assert "is not a name with optional [index]es" in line  # not "optional es"
    assert str(mapping) in line and len(line) > 140


# --- item 6: routes without the key; recording needs it ---------------------------------------


def keyless_config(tmp_path: Path, key_line: str) -> Path:
    config = write_demo_config(tmp_path, "http://127.0.0.1:1", "http://127.0.0.1:2", tmp_path / "rec")
    text = config.read_text()
    text, n = re.subn(r"(?m)^(\s+)key_file: .*", r"\g<1>" + key_line, text)
    assert n == 1
    config.write_text(text)
    return config


@pytest.mark.parametrize("key_line", [f"key_env: {UNSET_KEY}", "key_file: /nonexistent/turnout.key"],
                         ids=["key_env unset", "key_file unreadable"])
def test_routes_set_and_check_do_not_need_the_key(tmp_path: Path, key_line: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSET_KEY, raising=False)
    config = keyless_config(tmp_path, key_line)

    checked = run("routes", "check", "-c", str(config))
    assert checked.exit_code == 0, checked.output
    switched = run("routes", "set", "/pnc VehicleEnquiry", "shadow", "-c", str(config))
    assert switched.exit_code == 0, switched.output
    assert "shadow" in switched.output
    rolled_back = run("routes", "set", "/pnc VehicleEnquiry", "legacy", "-c", str(config))
    assert rolled_back.exit_code == 0, rolled_back.output


@pytest.mark.timeout(60)
def test_recording_without_the_key_fails_clearly_before_listening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(UNSET_KEY, raising=False)
    config = keyless_config(tmp_path, f"key_env: {UNSET_KEY}")
    port = free_port()

    result = run("proxy", "-c", str(config), "--record", str(tmp_path / "rec"), "--port", str(port))

    assert result.exit_code == 2
    [line] = error_lines(result.output)
    assert f"environment variable {UNSET_KEY} is not set" in line
    assert "recording needs the pseudonymisation key" in line
    with socket.socket() as probe:  # nothing was left listening
        assert probe.connect_ex(("127.0.0.1", port)) != 0


# --- recordings: filters in every view, every part of an exchange ----------------------------


def exchange(key: str, **more: object) -> Exchange:
    service, name = key.split(" ")
    return Exchange(
        request=HttpRequest("POST", service, [("Content-Type", "text/xml")], b"<q/>"),
        client="127.0.0.1:1", operation=OperationName(service, name),
        response=HttpResponse(200, [("Content-Type", "text/xml")], b"<legacy-answer/>", "OK"),
        timings={"total": 1.0}, **more,  # type: ignore[arg-type]
    )


def test_recordings_list_summary_honours_operation(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    for key in ("/pnc VehicleEnquiry", "/pnc VehicleEnquiry", "/pnc PersonEnquiry"):
        store.write(exchange(key))

    result = run("recordings", "list", str(tmp_path), "--operation", "/pnc VehicleEnquiry",
                 "--summary")

    assert result.exit_code == 0, result.output
    assert "/pnc VehicleEnquiry" in result.output
    assert "PersonEnquiry" not in result.output
    assert "2 exchanges" in result.output


def test_recordings_show_every_part_of_an_exchange_in_order(tmp_path: Path) -> None:
    shadowed = exchange(
        "/pnc VehicleEnquiry", route="shadow",
        started_at=datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc),
        translated=HttpResponse(200, [("Content-Type", "text/xml")], b"<translated-answer/>"),
        translation={
            "translator": "pnc/VehicleEnquiry", "kind": "ok", "ms": 2.5,
            "call": {"service": "pnc", "method": "GET", "path": "/vehicles/AB12CDE",
                     "query": {"expand": "keeper"}, "body": None},
            "reply": {"status": 200, "body": {"colour": "blue-from-the-service"}},
            "equal": False,
            "diff": [{"path": "/soap:Envelope/soap:Body/pnc:colourCode", "kind": "changed",
                      "legacy": "BLU", "new": "[RED]"}],
        },
    )
    RecordingStore(tmp_path).write(shadowed)

    result = run("recordings", "show", shadowed.id, "--dir", str(tmp_path))

    assert result.exit_code == 0, result.output
    out = result.output
    parts = ["request: POST /pnc", "<q/>", "response: 200 OK", "<legacy-answer/>",
             "JSON call: GET pnc /vehicles/AB12CDE", '"expand": "keeper"',
             "JSON reply: 200", '"colour": "blue-from-the-service"',
             "translated envelope: 200", "<translated-answer/>",
             "diff", "changed /soap:Envelope/soap:Body/pnc:colourCode"]
    places = [out.find(part) for part in parts]
    assert -1 not in places, [p for p, at in zip(parts, places) if at == -1]
    assert places == sorted(places), out
    assert "'BLU'" in out and "'[RED]'" in out  # brackets in recorded values are not markup


def test_recordings_show_says_what_a_relative_directory_is_relative_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("recordings", "show", "20261125")  # --dir recordings, the default
    assert result.exit_code == 2
    [line] = error_lines(result.output)
    assert f"recordings (relative to {Path.cwd()})" in line


# --- turnout proxy: ./turnout.yaml, and a port in use ----------------------------------------


def test_proxy_reads_turnout_yaml_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("turnout.yaml").write_text("upstream: http://127.0.0.1:1\nlisten:\n  port: banana\n")
    result = run("proxy")
    assert result.exit_code == 2
    [line] = error_lines(result.output)
    assert line.startswith("error: turnout.yaml:3: listen.port: must be a whole number")
    assert line.endswith(f"(turnout.yaml is relative to {Path.cwd()})")


def test_proxy_with_no_config_anywhere_says_what_to_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("proxy")
    assert result.exit_code == 2
    [line] = error_lines(result.output)
    assert "--config" in line and "--upstream" in line
    assert f"no turnout.yaml in {Path.cwd()}" in line


def run_proxy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TURNOUT, "proxy", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd)


def assert_one_line_refusal(done: subprocess.CompletedProcess[str], port: int) -> None:
    assert done.returncode != 0
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and f":{port}" in lines[0] and "in use" in lines[0]
    assert "Traceback" not in lines[0] and "--mode" not in lines[0]


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with ScriptedBus() as bus:
        config = tmp_path / "turnout.yaml"
        config.write_text(f"upstream: {bus.url}\n")
        with ProxyProcess(config) as first:
            second = run_proxy("--config", str(config), "--port", str(first.port), cwd=tmp_path)
            assert_one_line_refusal(second, first.port)
            status, _, _ = first.request("GET", "/pnc?wsdl")  # the first still serves
            assert status == 200


def test_an_admin_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "turnout.yaml"
        config.write_text(f"upstream: http://127.0.0.1:1\nadmin: {{port: {port}}}\n")
        done = run_proxy("--port", "0", cwd=tmp_path)
    assert_one_line_refusal(done, port)
    assert "admin.port" in done.stderr
