"""A scaffolded mapping serving a SOAP 1.1 and a 1.2 port is found by its second key's route.

`turnout scaffold` folds the two ports of tests/wsdl/dual-soap/records.wsdl into one mapping
named after the first key (`merlin/records/GetRecord`) whose `operation:` lists both. A route
for the second key (`/merlin/records/soap12 GetRecord`) that names no translator must still
reach it: through a real proxy process, a route file naming only that key, and
`turnout routes set` on it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from turnout.soap import parse_xml

from .support.bus import Reply, ScriptedBus
from .support.proxy_process import TURNOUT, ProxyProcess, free_port
from .test_live_reload import wait_until

DUAL = Path(__file__).parent / "wsdl" / "dual-soap" / "records.wsdl"
SOAP12_KEY = "/merlin/records/soap12 GetRecord"
BUS_ANSWER = b"<from-the-bus/>"
SOAP12_HEADERS = {
    "Content-Type": 'application/soap+xml; charset=utf-8; action="urn:police:merlin:records:v1#GetRecord"',
}
RECORDS = "urn:police:merlin:records:v1"


@pytest.fixture
def bus() -> Iterator[ScriptedBus]:
    with ScriptedBus() as scripted:
        scripted.reply = Reply(body=BUS_ANSWER)
        yield scripted


@pytest.fixture
def service() -> Iterator[ScriptedBus]:
    with ScriptedBus() as scripted:
        scripted.reply = Reply(headers=[("Content-Type", "application/json")],
                               body=b'{"recordId": "MR-7", "riskLevel": "HIGH"}')
        yield scripted


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TURNOUT, *args], capture_output=True, text=True, timeout=60, cwd=root)


def _routes_in_force(admin_port: int) -> str:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/routes", timeout=3) as reply:
            return str(reply.read().decode())
    except OSError:
        return ""


def test_the_second_keys_route_reaches_the_folded_mapping_without_naming_it(
    tmp_path: Path, bus: ScriptedBus, service: ScriptedBus,
) -> None:
    scaffolded = _cli(tmp_path, "scaffold", str(DUAL), "--out", "out")
    assert scaffolded.returncode == 0, scaffolded.stdout + scaffolded.stderr
    request = (tmp_path / "out" / "examples" / "records" / "get_record.soap12.request.xml").read_bytes()
    admin_port = free_port()
    config = tmp_path / "turnout.yaml"
    # a route file naming only the 1.2 key, and no `translator:`
    config.write_text(
        f"upstream: {bus.url}\n"
        "timeouts: {upstream: 5}\n"
        "translators: out/translators\n"
        f"services: {{records: {service.url}}}\n"
        f"admin: {{port: {admin_port}}}\n"
        "routes:\n"
        f"  {SOAP12_KEY}: {{mode: translator}}\n"
    )
    with ProxyProcess(config) as proxy:
        assert wait_until(lambda: bool(_routes_in_force(admin_port)), 10), proxy.log
        assert '"translator": "merlin/records/GetRecord"' in _routes_in_force(admin_port)

        status, _, body = proxy.request("POST", "/merlin/records/soap12", request, SOAP12_HEADERS)
        assert status == 200, body
        reply = parse_xml(body)
        assert etree.QName(reply).namespace == "http://www.w3.org/2003/05/soap-envelope"
        assert reply.findtext(f".//{{{RECORDS}}}riskLevel") == "HIGH"
        assert [r.path for r in service.received] == ["/get-record?recordId=example"]
        assert bus.received == []

        switched = _cli(tmp_path, "routes", "set", SOAP12_KEY, "shadow", "-c", str(config))
        assert switched.returncode == 0, switched.stdout + switched.stderr
        assert "in force" in switched.stdout

        status, _, body = proxy.request("POST", "/merlin/records/soap12", request, SOAP12_HEADERS)
        assert (status, body) == (200, BUS_ANSWER)
        assert wait_until(lambda: len(service.received) == 2, 5)  # the shadow ran the mapping
        assert len(bus.received) == 1
