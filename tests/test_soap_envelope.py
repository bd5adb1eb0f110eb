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


# --- envelope threats whatever follows them ----------------------------------------------------------

LONG_NAME = b"n" * 60_000
TAILS = {
    "nothing (truncated)": b"",
    "junk": b"junk<<&&",
    "over-long element name": b"<" + LONG_NAME + b"/>",
    "over-long attribute name": b" " + LONG_NAME + b'="1"/>',
    "invalid utf-8": b"\xff\xfe\x80",
    "undefined entity": b"&bogus;",
    "mismatched end tag": b"</nope>",
}
ENVELOPE_START = b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
#: name -> (the envelope up to and including its threat, what completes it, kind)
ENVELOPE_THREATS = {
    "xinclude": (
        ENVELOPE_START + b'<s:Body><p:Op xmlns:p="urn:p"><xi:include xmlns:xi="http://www.w3.org/2001/XInclude"'
        b' href="file:///etc/passwd" parse="text"/>',
        b"</p:Op></s:Body></s:Envelope>", "xinclude",
    ),
    "xinclude-2003": (
        ENVELOPE_START + b'<s:Body><p:Op xmlns:p="urn:p"><xi:include xmlns:xi="http://www.w3.org/2003/XInclude"'
        b' href="http://127.0.0.1:9/x"/>',
        b"</p:Op></s:Body></s:Envelope>", "xinclude",
    ),
    "two-bodies": (
        ENVELOPE_START + b'<s:Body><p:Op xmlns:p="urn:p"/></s:Body><s:Body>',
        b'<p:Other xmlns:p="urn:p"/></s:Body></s:Envelope>', "ambiguous-envelope",
    ),
    "two-headers": (
        ENVELOPE_START + b"<s:Header/><s:Header>",
        b'</s:Header><s:Body><p:Op xmlns:p="urn:p"/></s:Body></s:Envelope>', "ambiguous-envelope",
    ),
    "two-bodies-soap12": (
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><p:Op xmlns:p="urn:p"/>'
        b"</e:Body><e:Body>",
        b"</e:Body></e:Envelope>", "ambiguous-envelope",
    ),
    "deep": (
        ENVELOPE_START + b'<s:Body><p:Op xmlns:p="urn:p">' + b"<p:x>" * 70,
        b"</p:x>" * 70 + b"</p:Op></s:Body></s:Envelope>", "too-deep",
    ),
}


def envelope_verdict(document: bytes) -> str:
    try:
        read_envelope(document, "/pnc")
    except XmlThreat as threat:
        return f"threat:{threat.kind}"
    except XmlUnreadable:
        return "unreadable"
    return "ok"


@pytest.mark.parametrize("tail", TAILS)
@pytest.mark.parametrize("threat", ENVELOPE_THREATS)
@pytest.mark.parametrize("where", ["inside", "after"])
def test_envelope_threat_then_junk_is_still_the_threat(threat: str, tail: str, where: str) -> None:
    prefix, rest, kind = ENVELOPE_THREATS[threat]
    document = prefix + TAILS[tail] if where == "inside" else prefix + rest + TAILS[tail]
    assert envelope_verdict(document) == envelope_verdict(prefix + rest) == f"threat:{kind}"


def test_two_headers_are_a_threat() -> None:
    doubled = V11.replace(b"<s:Header>", b"<s:Header/><s:Header>", 1)
    with pytest.raises(XmlThreat) as info:
        read_envelope(doubled, "/pnc")
    assert info.value.kind == "ambiguous-envelope"


def test_two_bodies_in_another_namespace_are_not_ambiguous() -> None:
    other = V11.replace(b"</s:Envelope>", b"<o:Body xmlns:o='urn:other'/></s:Envelope>")
    assert read_envelope(other, "/pnc").operation.name == "VehicleEnquiry"


def test_a_broken_envelope_without_threats_stays_unreadable() -> None:
    """Forwarded, as before: the bus may accept it. An unbound prefix in the recovered tree
    (a name etree.QName refuses) must not crash the envelope checks either."""
    for document in [V11 + b"junk", V11[:-20], V11.replace(b"</s:Body>", b"</s:Bdy>"),
                     b'<soap:Envelope xmlns:soap=""><soap:Body><x/></soap:Body></soap:Envelope>',
                     b"<s:Envelope><s:Body><x/></s:Body><s:Body/></s:Envelope>"]:
        assert envelope_verdict(document) == "unreadable", document


def test_payload_skips_comments_and_processing_instructions() -> None:
    document = V11.replace(b"<s:Body>", b"<s:Body><!-- c --><?pi x?>text")
    envelope = read_envelope(document, "/pnc")
    assert envelope.operation.name == "VehicleEnquiry"
    assert etree.QName(envelope.payload).localname == "VehicleEnquiry"


def test_wide_envelope_is_read_with_no_python_loop_over_its_elements() -> None:
    """250,000 siblings in the payload, or 50,000 comments before it: the operation is named
    from C-level filters, not a Python loop (counted from Python, not timed)."""
    import sys

    wide = ENVELOPE_START + b'<s:Body><p:Op xmlns:p="urn:p">' + b"<a/>" * 250_000 + b"</p:Op></s:Body></s:Envelope>"
    commented = ENVELOPE_START + b"<s:Body>" + b"<!---->" * 50_000 + b'<p:Op xmlns:p="urn:p"/></s:Body></s:Envelope>'
    for document, name in ((wide, "Op"), (commented, "Op")):
        calls = 0

        def count(frame, event, arg):  # noqa: ANN001 - sys.setprofile's signature
            nonlocal calls
            if event in ("call", "c_call"):
                calls += 1

        sys.setprofile(count)
        try:
            envelope = read_envelope(document, "/pnc")
        finally:
            sys.setprofile(None)
        assert envelope.operation.name == name
        assert calls < 300, f"{calls} calls from Python for one envelope"


@pytest.mark.parametrize("others", [0, 1, 5, 6, 7, 50, 10_000])
def test_header_and_body_are_found_and_doubled_whatever_else_the_envelope_holds(others: int) -> None:
    """An Envelope of up to 8 children has them read in Python, a wider one by lxml's filters
    in C: both find the Header and the Body past other children, and both refuse two of either."""
    filler = b"<o:x xmlns:o='urn:o'/><!-- c -->" * (others // 2) + b"<o:y xmlns:o='urn:o'/>" * (others % 2)
    header = b"<s:Header><h:Id xmlns:h='urn:h'>1</h:Id></s:Header>"
    body = b'<s:Body><p:Op xmlns:p="urn:p"/></s:Body>'
    envelope = ENVELOPE_START + filler + header + filler + body + filler + b"</s:Envelope>"
    read = read_envelope(envelope, "/pnc")
    assert read.operation.name == "Op" and read.header is not None
    assert etree.QName(read.header[0]).localname == "Id" and read.body[0] is read.payload
    for doubled, part in [(header + header + body, "Header"), (header + body + filler + body, "Body"),
                          (filler + body + header + body + header, "Header")]:
        with pytest.raises(XmlThreat) as info:
            read_envelope(ENVELOPE_START + filler + doubled + b"</s:Envelope>", "/pnc")
        assert info.value.kind == "ambiguous-envelope" and f"two {part} elements" in str(info.value)
