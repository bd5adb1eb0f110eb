"""SOAP Faults for both versions: 1.1 faultcode/faultstring/detail, 1.2 Code/Reason/Detail."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from ._version import SOAP11, SoapVersion

TURNOUT_FAULT_NS = "urn:turnout:fault"


@dataclass(frozen=True)
class Fault:
    """A fault to send: who is to blame, a sentence for a person, and a machine-readable kind."""

    reason: str
    sender: bool = True  # True: the caller's request is at fault; False: we or a neighbour failed
    kind: str = "error"  # a short stable token, e.g. "threat.doctype", "upstream.timeout"
    details: dict[str, str] = field(default_factory=dict)


def build_fault(version: SoapVersion, fault: Fault) -> bytes:
    """Serialise `fault` as a complete envelope of `version`, UTF-8, with an XML declaration."""
    ns = version.namespace
    envelope = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
    body = etree.SubElement(envelope, f"{{{ns}}}Body")
    node = etree.SubElement(body, f"{{{ns}}}Fault")
    code = version.sender_code if fault.sender else version.receiver_code
    if version is SOAP11:
        etree.SubElement(node, "faultcode").text = f"soap:{code}"
        etree.SubElement(node, "faultstring").text = fault.reason
        detail_parent = etree.SubElement(node, "detail")
    else:
        code_el = etree.SubElement(node, f"{{{ns}}}Code")
        etree.SubElement(code_el, f"{{{ns}}}Value").text = f"soap:{code}"
        reason_el = etree.SubElement(node, f"{{{ns}}}Reason")
        text = etree.SubElement(reason_el, f"{{{ns}}}Text")
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        text.text = fault.reason
        detail_parent = etree.SubElement(node, f"{{{ns}}}Detail")
    info = etree.SubElement(
        detail_parent, f"{{{TURNOUT_FAULT_NS}}}TurnoutFault", nsmap={"t": TURNOUT_FAULT_NS}
    )
    etree.SubElement(info, f"{{{TURNOUT_FAULT_NS}}}kind").text = fault.kind
    for key, value in sorted(fault.details.items()):
        item = etree.SubElement(info, f"{{{TURNOUT_FAULT_NS}}}detail", name=key)
        item.text = value
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
