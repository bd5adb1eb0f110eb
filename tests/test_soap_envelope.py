"""Reading envelopes: version, operation, action and disagreement; faults of both versions."""

import pytest
from lxml import etree

from turnout.soap import (
    SOAP11,
    SOAP11_NS,
    SOAP12,
    SOAP12_NS,
    Fault,
    XmlThreat,
    XmlUnreadable,
    action_names,
    build_fault,
    parse_xml,
    read_envelope,
)

V11 = (
    b'<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<s:Header><h:Id xmlns:h='urn:h'>1</h:Id></s:Header>"
    b'<s:Body><p:VehicleEnquiry xmlns:p="urn:police:pnc:v1"><p:vrm>AB12CDE</p:vrm></p:VehicleEnquiry></s:Body>'
    b"</s:Envelope>"
)
V12 = (
    b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>'
    b'<f:SubmitWitnessStatement xmlns:f="urn:police:eforms:v1"/></env:Body></env:Envelope>'
)


def test_soap11_envelope_names_its_operation_and_action() -> None:
    env = read_envelope(V11, "/pnc/?x=1", {"SOAPAction": '"urn:police:pnc:v1#VehicleEnquiry"'})
    assert env.version is SOAP11
    assert env.operation.key == "/pnc VehicleEnquiry"
    assert env.operation.namespace == "urn:police:pnc:v1"
    assert env.action == "urn:police:pnc:v1#VehicleEnquiry"
    assert not env.action_mismatch
    assert env.header is not None


def test_soap12_action_comes_from_content_type() -> None:
    headers = {"content-type": 'application/soap+xml; charset=utf-8; action="urn:police:eforms:v1/PersonEnquiry"'}
    env = read_envelope(V12, "/eforms", headers)
    assert env.version is SOAP12
    assert env.action == "urn:police:eforms:v1/PersonEnquiry"
    assert env.action_mismatch


@pytest.mark.parametrize(
    ("action", "operation", "names"),
    [
        (None, "X", True),
        ("", "X", True),
        ("urn:a#X", "X", True),
        ("http://h/svc/X", "X", True),
        ("urn:a:X", "XRequest", True),
        ("urn:a#Y", "X", False),
    ],
)
def test_action_names(action: str | None, operation: str, names: bool) -> None:
    assert action_names(action, operation) is names


def test_two_bodies_are_a_threat() -> None:
    doubled = V11.replace(b"</s:Body>", b"</s:Body><s:Body><p:PersonEnquiry xmlns:p='urn:p'/></s:Body>", 1)
    with pytest.raises(XmlThreat):
        read_envelope(doubled, "/pnc")


@pytest.mark.parametrize(
    "document",
    [b"<notSoap/>", b'<s:Envelope xmlns:s="urn:other"><s:Body><x/></s:Body></s:Envelope>',
     b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>'],
)
def test_not_an_envelope_is_unreadable(document: bytes) -> None:
    with pytest.raises(XmlUnreadable):
        read_envelope(document, "/pnc")


def test_soap11_fault_shape() -> None:
    root = parse_xml(build_fault(SOAP11, Fault("bad input", sender=True, kind="x.y", details={"a": "b"})))
    fault = root.find(f"{{{SOAP11_NS}}}Body/{{{SOAP11_NS}}}Fault")
    assert fault.findtext("faultcode") == "soap:Client"
    assert fault.findtext("faultstring") == "bad input"
    assert fault.find("detail") is not None
    assert root.nsmap["soap"] == SOAP11_NS


def test_soap12_fault_shape() -> None:
    root = parse_xml(build_fault(SOAP12, Fault("we failed", sender=False)))
    ns = {"e": SOAP12_NS}
    assert root.xpath("string(//e:Fault/e:Code/e:Value)", namespaces=ns) == "soap:Receiver"
    assert root.xpath("string(//e:Fault/e:Reason/e:Text)", namespaces=ns) == "we failed"
    assert SOAP12.content_type.startswith("application/soap+xml")
    assert etree.QName(read_envelope(build_fault(SOAP12, Fault("x")), "/e").payload).localname == "Fault"
