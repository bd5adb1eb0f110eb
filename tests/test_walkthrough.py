"""docs/walkthrough.md, followed end to end as a script: every command it gives, as a person
would type it, against real processes (the demo bus, the modern services, `turnout proxy`).

Step 4's decisions are made as tests/test_wsdl_scaffold.py makes them, but with one mistake left
in (the `insured` flag's Y/N word map), so that step 6 can show what the walkthrough promises:
the shadow diff names the difference, and fixing the mapping shows its effect on the next
requests with no restart.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from ruamel.yaml import YAML

from turnout.recording import RecordingStore

from .support.proxy_process import TURNOUT, ProxyProcess, free_port
from .test_wsdl_scaffold import fill_like_the_demo

REPO = Path(__file__).resolve().parent.parent
DEMO_WSDL = REPO / "turnout" / "demo" / "wsdl"
DEMO_TRANSLATORS = REPO / "turnout" / "demo" / "translators"
MARKS = ["TB19 XKF", "tb21qpa", "TB17 ZRC", "TB66 JKF", "ZZ99 ZZZ"]  # seeded, and one unknown


def run(cwd: Path, *args: str, ok: bool = True) -> str:
    done = subprocess.run([*TURNOUT, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    if ok:
        assert done.returncode == 0, f"turnout {' '.join(args)}:\n{output}"
    return output


class Service:
    """`turnout demo legacy|services --port P` as a process."""

    def __init__(self, what: str, cwd: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen([*TURNOUT, "demo", what, "--port", str(self.port), "--no-auth"], cwd=cwd,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        import socket

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"demo {what} did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def sides(tmp_path: Path) -> Iterator[tuple[Service, Service]]:
    bus, services = Service("legacy", tmp_path), Service("services", tmp_path)
    try:
        yield bus, services
    finally:
        bus.stop()
        services.stop()


def envelope(mark: str) -> str:
    return ('<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
            f'<p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"><p:registrationMark>{mark}'
            "</p:registrationMark></p:VehicleEnquiry></e:Body></e:Envelope>")


def with_mistake(text: str) -> str:
    """The demo's decisions but one: the `insured` flag keeps the service's true/false."""
    yaml = YAML(typ="rt")
    data = yaml.load(fill_like_the_demo(text))
    del data["response"]["body"]["pnc:VehicleEnquiryResponse"]["pnc:vehicle"]["pnc:insured"]["unmap"]
    import io

    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def shadows(directory: Path) -> list:
    exchanges = [e for e in RecordingStore(directory).iter_exchanges() if e.route == "shadow"]
    return sorted(exchanges, key=lambda e: e.id)


def wait_for(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_the_walkthrough_runs_as_written(
    tmp_path: Path, sides: tuple[Service, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    bus, services = sides
    home = tmp_path
    monkeypatch.setenv("TURNOUT_REDACTION_KEY", secrets.token_hex(32))  # step 5's export

    # 2. Read the WSDL: from the bus, then from a copy kept beside the translators
    assert "VehicleEnquiry" in run(home, "wsdl", "inspect", f"{bus.url}/pnc?wsdl")
    shutil.copy(DEMO_WSDL / "pnc.wsdl", home)
    shutil.copy(DEMO_WSDL / "pnc.xsd", home)
    assert "key /pnc VehicleEnquiry" in run(home, "wsdl", "inspect", "pnc.wsdl")

    # 3. Scaffold
    out = run(home, "scaffold", "pnc.wsdl", "--operation", "VehicleEnquiry", "--out", "moving/",
              "--openapi", "moving/pnc-api.yaml")
    assert "valid OpenAPI" in out
    mapping = home / "moving" / "translators" / "pnc" / "vehicle_enquiry.yaml"
    assert mapping.exists() and (home / "moving" / "examples" / "pnc").is_dir()

    # 4. Make the decisions (one mistake left in, see the module docstring)
    scaffolded = mapping.read_text()
    mapping.write_text(with_mistake(scaffolded))
    shutil.copy(DEMO_TRANSLATORS / "pnc" / "_pnc.yaml", mapping.parent / "_pnc.yaml")

    # 5. Configure the proxy, check, start it recording
    admin = free_port()
    (home / "turnout.yaml").write_text(
        f"upstream: {bus.url}\n"
        "translators: moving/translators\n"
        f'services: {{pnc: "{services.url}"}}\n'
        "compare: {rules: moving/compare.yaml}\n"
        f"admin: {{port: {admin}}}\n"
        "recordings:\n"
        "  redaction:\n"
        "    key_env: TURNOUT_REDACTION_KEY\n"
        "    body: [\"//*[local-name()='registrationMark']\", \"//*[local-name()='surname' or local-name()='forenames']\"]\n"
        "    json: [\"**.registration\", \"**.family\", \"**.given\"]\n"
        "routes:\n"
        "  /pnc VehicleEnquiry: {mode: legacy}\n"
    )
    run(home, "routes", "check", "-c", "turnout.yaml")
    traffic = home / "traffic"
    traffic.mkdir()
    for i, mark in enumerate(MARKS):
        (traffic / f"vehicle-{i}.request.xml").write_text(envelope(mark))
    with ProxyProcess(home / "turnout.yaml", extra=["--record", "recordings-local"]) as proxy:
        # 6. Shadow
        run(home, "routes", "set", "/pnc VehicleEnquiry", "shadow", "-c", "turnout.yaml")
        run(home, "send", f"{proxy.url}/pnc", "traffic/")
        recordings = home / "recordings-local"
        assert wait_for(lambda: len(shadows(recordings)) == len(MARKS)), proxy.log
        before = shadows(recordings)
        assert any(e.translation.get("equal") is False for e in before)  # the mistake shows
        listing = run(home, "recordings", "list", "recordings-local", "--operation",
                      "/pnc VehicleEnquiry", "--summary")
        assert "VehicleEnquiry" in listing
        different = next(e for e in before if e.translation.get("equal") is False)
        shown = run(home, "recordings", "show", different.id, "--dir", "recordings-local")
        assert "insured" in shown  # each difference names the element

        # fix the mapping; the next requests show the effect, with no restart
        mapping.write_text(fill_like_the_demo(scaffolded))
        def fixed() -> bool:
            run(home, "send", f"{proxy.url}/pnc", "traffic/vehicle-0.request.xml")
            newest = shadows(recordings)[-1:]
            return bool(newest) and newest[0].translation.get("equal") is True
        assert wait_for(fixed, 30), proxy.log
        run(home, "send", f"{proxy.url}/pnc", "traffic/")
        assert wait_for(lambda: len(shadows(recordings)) >= len(before) + len(MARKS) + 1)
        assert all(e.translation.get("equal") is True for e in shadows(recordings)[-len(MARKS):])
        status = run(home, "status", "-c", "turnout.yaml")
        assert "/pnc VehicleEnquiry" in status

        # 7. Keep it right: golden tests from the good shadow recordings
        golden = home / "moving" / "golden" / "pnc" / "VehicleEnquiry"
        golden.mkdir(parents=True, exist_ok=True)
        for exchange in shadows(recordings)[-len(MARKS):]:
            source = next(recordings.rglob(f"{exchange.id}*.yaml"))
            shutil.copy(source, golden)
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "golden/"],
                              cwd=home / "moving", capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and f"{len(MARKS)} passed" in done.stdout, done.stdout + done.stderr

        # 8. When the WSDL changes: the scaffold keeps the edited mapping
        edited = mapping.read_text()
        run(home, "scaffold", "pnc.wsdl", "--out", "moving/")
        run(home, "scaffold", "pnc.wsdl", "--out", "moving/", "--accept")
        assert mapping.read_text() == edited

        # and on: a canary
        run(home, "routes", "set", "/pnc VehicleEnquiry", "canary", "--percent", "10", "-c", "turnout.yaml")
        assert "canary" in run(home, "routes", "list", "-c", "turnout.yaml")
