"""Response and fault envelopes in the request's SOAP version, shaped as a legacy bus writes them.

`turnout.soap.build_fault` writes Turnout's own faults (a `TurnoutFault` detail, no header);
a translator must instead write the fault the legacy bus would have written: its header, its
fault code, its detail element. The only difference between the versions here is where the code,
the reason and the detail go, and that comes from `SoapVersion` (namespace, sender/receiver codes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from lxml import etree

from ..soap import SOAP11, SoapVersion
from ._protocol import SoapReply

Builder = Callable[[etree._Element], None]

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
OK_STATUS = 200
FAULT_STATUS = 500


def _soap_prefix(namespaces: Mapping[str, str]) -> str:
    return "soap" if "soap" not in namespaces else "env"


def new_envelope(
    version: SoapVersion, namespaces: Mapping[str, str], header: Builder | None
) -> tuple[etree._Element, etree._Element]:
    """An Envelope declaring `soap` and the mapping's namespaces, its Header filled by `header`
    (no Header when None or when it adds nothing), and its empty Body."""
    soap_ns = version.namespace
    nsmap = {_soap_prefix(namespaces): soap_ns}
    nsmap.update((prefix, uri) for prefix, uri in namespaces.items() if uri)
    envelope = etree.Element(f"{{{soap_ns}}}Envelope", nsmap=nsmap)
    if header is not None:
        header_el = etree.SubElement(envelope, f"{{{soap_ns}}}Header")
        header(header_el)
        if len(header_el) == 0:
            envelope.remove(header_el)
    body = etree.SubElement(envelope, f"{{{soap_ns}}}Body")
    return envelope, body


def add_fault(
    version: SoapVersion, body: etree._Element, *, sender: bool, reason: str, detail: Builder | None
) -> None:
    """Append a Fault to `body`: 1.1 faultcode/faultstring/detail, 1.2 Code/Reason/Detail.

    The code is written as `<prefix>:Client` with the prefix the envelope binds the SOAP
    namespace to, as a QName in text must be.
    """
    soap_ns = version.namespace
    prefix = next((p for p, uri in body.nsmap.items() if uri == soap_ns and p), "soap")
    code = f"{prefix}:{version.sender_code if sender else version.receiver_code}"
    fault = etree.SubElement(body, f"{{{soap_ns}}}Fault")
    if version is SOAP11:
        etree.SubElement(fault, "faultcode").text = code
        etree.SubElement(fault, "faultstring").text = reason
        detail_tag = "detail"
    else:
        code_el = etree.SubElement(fault, f"{{{soap_ns}}}Code")
        etree.SubElement(code_el, f"{{{soap_ns}}}Value").text = code
        reason_el = etree.SubElement(fault, f"{{{soap_ns}}}Reason")
        text = etree.SubElement(reason_el, f"{{{soap_ns}}}Text")
        text.set(_XML_LANG, "en")
        text.text = reason
        detail_tag = f"{{{soap_ns}}}Detail"
    if detail is not None:
        detail_el = etree.SubElement(fault, detail_tag)
        detail(detail_el)
        if len(detail_el) == 0:
            fault.remove(detail_el)


def serialise(version: SoapVersion, envelope: etree._Element, status: int) -> SoapReply:
    body: bytes = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    return SoapReply(status=status, content_type=version.content_type, body=body)
