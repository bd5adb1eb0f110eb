"""The one Fault writer: codes, subcodes, reason, Header and detail in both SOAP versions."""

from __future__ import annotations

import pytest
from lxml import etree

from turnout.soap import (
    SOAP11,
    SOAP11_NS,
    SOAP12,
    SOAP12_NS,
    FaultCode,
    SoapFault,
    parse_xml,
    read_envelope,
    write_fault,
)

PNC = "urn:police:pnc:v1"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _resolve(element: etree._Element) -> etree.QName:
    """The QName an element's text names, resolved against the prefixes in scope there."""
    prefix, _, local = (element.text or "").rpartition(":")
    return etree.QName(element.nsmap[prefix] if prefix else None, local)


def test_a_subcode_refines_the_1_1_code_with_a_dot_and_nests_in_1_2() -> None:
    fault = SoapFault("no such record", FaultCode.SENDER, subcodes=(etree.QName("RecordNotFound"),))
    old = parse_xml(write_fault(SOAP11, fault))
    assert old.findtext("*/*/faultcode") == "soap:Client.RecordNotFound"
    new = parse_xml(write_fault(SOAP12, fault))
    code = new.find(f"*/*/{{{SOAP12_NS}}}Code")
    assert code is not None
    assert code.findtext(f"{{{SOAP12_NS}}}Value") == "soap:Sender"
    assert code.findtext(f"{{{SOAP12_NS}}}Subcode/{{{SOAP12_NS}}}Value") == "RecordNotFound"


def test_a_namespaced_code_uses_the_callers_prefix_or_declares_one() -> None:
    declared = parse_xml(write_fault(SOAP11, SoapFault("x", etree.QName(PNC, "NoRecord")), {"pnc": PNC}))
    faultcode = declared.find("*/*/faultcode")
    assert faultcode is not None and faultcode.text == "pnc:NoRecord"
    undeclared = parse_xml(
        write_fault(SOAP12, SoapFault("x", FaultCode.RECEIVER, subcodes=(etree.QName(PNC, "Down"),)))
    )
    value = undeclared.find(f".//{{{SOAP12_NS}}}Subcode/{{{SOAP12_NS}}}Value")
    assert value is not None and _resolve(value) == etree.QName(PNC, "Down")


def test_version_mismatch_is_spelled_alike_and_sender_is_not() -> None:
    for version, sender in ((SOAP11, "Client"), (SOAP12, "Sender")):
        assert version.code_name(FaultCode.VERSION_MISMATCH) == "VersionMismatch"
        assert version.code_name(FaultCode.SENDER) == sender


def test_the_1_2_reason_carries_its_language_and_1_1_only_the_text() -> None:
    fault = SoapFault("Ungültige Anfrage", lang="de")
    text = parse_xml(write_fault(SOAP12, fault)).find(f".//{{{SOAP12_NS}}}Reason/{{{SOAP12_NS}}}Text")
    assert text is not None and (text.text, text.get(XML_LANG)) == ("Ungültige Anfrage", "de")
    assert parse_xml(write_fault(SOAP11, fault)).findtext("*/*/faultstring") == "Ungültige Anfrage"


def test_header_and_detail_take_elements_simple_values_and_builders() -> None:
    message_header = etree.Element(f"{{{PNC}}}MessageHeader", nsmap={"pnc": PNC})
    etree.SubElement(message_header, f"{{{PNC}}}messageId").text = "m-1"

    def build(parent: etree._Element) -> None:
        etree.SubElement(parent, f"{{{PNC}}}field").text = "surname"

    fault = SoapFault(
        "bad",
        header=(message_header,),
        detail=((f"{{{PNC}}}errorCode", "INVAL"), build),
    )
    for version, detail_tag in ((SOAP11, "detail"), (SOAP12, f"{{{SOAP12_NS}}}Detail")):
        envelope = read_envelope(write_fault(version, fault, {"pnc": PNC}), "/pnc")
        assert envelope.is_fault and envelope.header is not None
        assert envelope.header.findtext(f"{{{PNC}}}MessageHeader/{{{PNC}}}messageId") == "m-1"
        detail = envelope.payload.find(detail_tag)
        assert detail is not None
        assert [(child.tag, child.text) for child in detail] == [
            (f"{{{PNC}}}errorCode", "INVAL"),
            (f"{{{PNC}}}field", "surname"),
        ]


def test_an_empty_header_or_detail_is_left_out() -> None:
    fault = SoapFault("bad", header=(lambda parent: None,), detail=(lambda parent: None,))
    root = parse_xml(write_fault(SOAP11, fault))
    assert root.find(f"{{{SOAP11_NS}}}Header") is None
    assert root.find("*/*/detail") is None


def test_an_element_of_another_tree_is_copied_not_taken() -> None:
    other = etree.Element("holder")
    item = etree.SubElement(other, f"{{{PNC}}}errorCode")
    write_fault(SOAP11, SoapFault("bad", detail=(item,)))
    assert item.getparent() is other


def test_a_code_in_no_namespace_is_refused_under_a_default_namespace() -> None:
    with pytest.raises(ValueError, match="no namespace"):
        write_fault(SOAP11, SoapFault("x", etree.QName("Bare")), {None: PNC})  # type: ignore[dict-item]
