"""`turnout send URL FILE|DIR...`: the walkthrough's traffic from the CLI alone, against real
loopback servers: the demo bus behind a real proxy process, and a scripted bus that shows what
arrived (path, Content-Type, SOAPAction)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from turnout.cli import main

from .conftest import LegacyBus
from .support.bus import Reply, ScriptedBus
from .support.proxy_process import ProxyProcess, free_port

HERE = Path(__file__).parent
DEMO_WSDL = HERE.parent / "turnout" / "demo" / "wsdl"
DISPATCH = HERE / "wsdl" / "turnout-features" / "dispatch.wsdl"

FAULT_11 = b"""<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
<faultcode>s:Client</faultcode><faultstring>no vehicle [AB12 CDE]</faultstring>
</s:Fault></s:Body></s:Envelope>"""
FAULT_12 = b"""<?xml version="1.0"?>
<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:d="urn:d"><e:Body><e:Fault>
<e:Code><e:Value>e:Sender</e:Value><e:Subcode><e:Value>d:UnknownIncident</e:Value></e:Subcode></e:Code>
<e:Reason><e:Text xml:lang="en">no such incident</e:Text></e:Reason>
</e:Fault></e:Body></e:Envelope>"""
ANSWER_11 = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
             b'<r:Answer xmlns:r="urn:r"><r:value>42</r:value></r:Answer></s:Body></s:Envelope>')


def send(*args: str) -> Result:
    return CliRunner().invoke(main, ["send", *args], catch_exceptions=False)


def scaffold(wsdl: Path, out: Path) -> Path:
    result = CliRunner().invoke(main, ["scaffold", str(wsdl), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / "examples"


def header(received: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in received if key.lower() == name.lower()), None)


def test_scaffold_examples_through_the_proxy_to_the_demo_bus(
    tmp_path: Path, legacy_bus: LegacyBus
) -> None:
    examples = scaffold(DEMO_WSDL / "pnc.wsdl", tmp_path / "moving")
    config = tmp_path / "turnout.yaml"
    config.write_text(f"upstream: {legacy_bus.url}\n")
    with ProxyProcess(config) as proxy:
        result = send(proxy.url, str(examples))

    assert result.exit_code == 0, result.output  # the bus's Fault is an answer, not a failure
    out = result.output
    person = out.index("/pnc PersonEnquiry")
    vehicle = out.index("/pnc VehicleEnquiry")
    assert "200 OK" in out[person:vehicle]
    assert "<pnc:PersonEnquiryResponse>" in out[person:vehicle]  # the answer, indented
    assert "\n      <pnc:matchCount>" in out[person:vehicle]
    assert "500 Internal Server Error  Fault soap:Client: no vehicle" in out[vehicle:]
    assert "2 requests: 1 answered, 1 faults, 0 failed" in out


def test_soap11_path_and_soapaction_come_from_the_scaffold_note(tmp_path: Path) -> None:
    examples = scaffold(DEMO_WSDL / "pnc.wsdl", tmp_path / "moving")
    with ScriptedBus() as bus:
        bus.reply = Reply(body=ANSWER_11)
        result = send(bus.url, str(examples / "pnc" / "vehicle_enquiry.request.xml"))
    assert result.exit_code == 0, result.output
    [got] = bus.received
    assert (got.method, got.path) == ("POST", "/pnc")
    assert header(got.headers, "Content-Type") == "text/xml; charset=utf-8"
    assert header(got.headers, "SOAPAction") == '"urn:police:pnc:v1#VehicleEnquiry"'
    assert got.body == (examples / "pnc" / "vehicle_enquiry.request.xml").read_bytes()
    assert "200 OK" in result.output and "<r:value>42</r:value>" in result.output


def test_without_a_note_the_action_is_the_operation_name_and_the_url_gives_the_path(
    tmp_path: Path,
) -> None:
    examples = scaffold(DEMO_WSDL / "pnc.wsdl", tmp_path / "moving")
    plain = tmp_path / "plain.xml"
    text = (examples / "pnc" / "vehicle_enquiry.request.xml").read_text()
    plain.write_text("\n".join(line for line in text.splitlines() if "turnout send" not in line))
    with ScriptedBus() as bus:
        bus.reply = Reply(body=ANSWER_11)
        refused = send(bus.url, str(plain))
        assert refused.exit_code == 2 and "give the service's full URL" in refused.output
        assert not bus.received
        result = send(f"{bus.url}/legacy/pnc", str(plain), "-H", "X-Officer-Id: 4411")
    assert result.exit_code == 0, result.output
    [got] = bus.received
    assert got.path == "/legacy/pnc"
    assert header(got.headers, "SOAPAction") == '"VehicleEnquiry"'
    assert header(got.headers, "X-Officer-Id") == "4411"


def test_soap12_carries_the_action_in_the_content_type(tmp_path: Path) -> None:
    """dispatch's SOAP 1.2 port (/dispatch12) is folded into the dispatch mapping: its example
    request is `examples/dispatch/raise_incident.soap12.request.xml` (docs/wsdl.md), and its
    note, not the folder, sends it to /dispatch12."""
    examples = scaffold(DISPATCH, tmp_path / "moving")
    with ScriptedBus() as bus:
        bus.reply = Reply(status=500, headers=[("Content-Type", "application/soap+xml")],
                          body=FAULT_12)
        result = send(bus.url, str(examples / "dispatch" / "raise_incident.soap12.request.xml"))
    assert result.exit_code == 0, result.output
    [got] = bus.received
    assert got.path == "/dispatch12"
    assert header(got.headers, "Content-Type") == (
        'application/soap+xml; charset=utf-8; action="urn:example:dispatch#RaiseIncident"')
    assert header(got.headers, "SOAPAction") is None
    assert "Fault e:Sender/d:UnknownIncident: no such incident" in result.output


def test_a_folded_service_s_examples_folder_reaches_each_port_in_its_own_soap_version(
        tmp_path: Path) -> None:
    """The folder of a service whose 1.1 and 1.2 ports the scaffold folded into one mapping
    holds both ports' examples; sent without a path in the URL, each goes to its own port."""
    examples = scaffold(DISPATCH, tmp_path / "moving")
    with ScriptedBus() as bus:
        bus.reply = Reply(body=ANSWER_11)
        result = send(bus.url, str(examples / "dispatch"))
    assert result.exit_code == 0, result.output
    arrived = sorted((got.path, header(got.headers, "Content-Type") or "") for got in bus.received)
    assert arrived == [
        ("/dispatch", "text/xml; charset=utf-8"),
        ("/dispatch", "text/xml; charset=utf-8"),
        ("/dispatch12",
         'application/soap+xml; charset=utf-8; action="urn:example:dispatch#RaiseIncident"'),
    ]
    assert "/dispatch12 RaiseIncident" in result.output


@pytest.mark.parametrize(("extra", "code"), [((), 0), (("--fail-on-fault",), 1)])
def test_a_fault_is_an_answer_unless_fail_on_fault(tmp_path: Path, extra: tuple[str, ...],
                                                   code: int) -> None:
    examples = scaffold(DEMO_WSDL / "pnc.wsdl", tmp_path / "moving")
    with ScriptedBus() as bus:
        bus.reply = Reply(status=500, body=FAULT_11)
        result = send(bus.url, str(examples / "pnc"), *extra)
    assert result.exit_code == code, result.output
    assert len(bus.received) == 2
    assert result.output.count("500 Internal Server Error  Fault s:Client: no vehicle [AB12 CDE]") == 2


def test_a_request_that_cannot_connect_fails_the_command(tmp_path: Path) -> None:
    examples = scaffold(DEMO_WSDL / "pnc.wsdl", tmp_path / "moving")
    with ScriptedBus() as bus:
        bus.reply = Reply(body=ANSWER_11)
        dead = f"http://127.0.0.1:{free_port()}"
        result = send(dead, str(examples / "pnc" / "person_enquiry.request.xml"))
        assert result.exit_code == 1, result.output
        assert f"could not send to {dead}/pnc" in result.output
        assert "1 requests: 0 answered, 0 faults, 1 failed" in result.output

        answered = send(bus.url, str(examples / "pnc"))
    assert answered.exit_code == 0, answered.output


def test_a_file_that_is_not_an_envelope_sends_nothing(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xml"
    junk.write_text("<not-an-envelope/>")
    with ScriptedBus() as bus:
        result = send(f"{bus.url}/pnc", str(junk))
    assert result.exit_code == 2
    assert f"error: {junk}: not a SOAP envelope" in result.output
    assert not bus.received
