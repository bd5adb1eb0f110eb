"""Response and fault envelopes as the legacy bus writes them.

Every envelope carries a `MessageHeader` (a fresh uuid and a legacy timestamp) in the service's
namespace. Faults follow the service's SOAP version and carry a `ServiceFault` detail element
(errorCode, errorText, field) declared in the service XSD, so clients can read it as typed data.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from lxml import etree

from ...soap import SOAP11
from ._codec import add, add_optional, format_timestamp, new_element
from ._fault import BusFault
from ._service import BusService

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _envelope(service: BusService, now: datetime) -> tuple[etree._Element, etree._Element]:
    soap_ns = service.version.namespace
    envelope = etree.Element(
        f"{{{soap_ns}}}Envelope", nsmap={"soap": soap_ns, service.prefix: service.namespace}
    )
    header = etree.SubElement(envelope, f"{{{soap_ns}}}Header")
    message_header = etree.SubElement(header, f"{{{service.namespace}}}MessageHeader")
    add(message_header, "messageId", str(uuid.uuid4()))
    add(message_header, "timestamp", format_timestamp(now))
    body = etree.SubElement(envelope, f"{{{soap_ns}}}Body")
    return envelope, body


def _serialise(envelope: etree._Element) -> bytes:
    serialised: bytes = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    return serialised


def response_envelope(service: BusService, payload: etree._Element, now: datetime) -> bytes:
    """`payload` (the `<Op>Response` element) wrapped in a header-carrying envelope."""
    envelope, body = _envelope(service, now)
    body.append(payload)
    return _serialise(envelope)


def service_fault(service: BusService, fault: BusFault) -> etree._Element:
    """The `ServiceFault` detail element the XSD declares."""
    detail = new_element(service.namespace, service.prefix, "ServiceFault")
    add(detail, "errorCode", fault.code)
    add(detail, "errorText", fault.text)
    add_optional(detail, "field", fault.field)
    return detail


def fault_envelope(service: BusService, fault: BusFault, now: datetime) -> bytes:
    """A SOAP Fault of the service's version: 1.1 faultcode/faultstring/detail, 1.2
    Code/Reason/Detail."""
    version = service.version
    soap_ns = version.namespace
    envelope, body = _envelope(service, now)
    node = etree.SubElement(body, f"{{{soap_ns}}}Fault")
    if fault.version_mismatch:
        code = "VersionMismatch"
    else:
        code = version.sender_code if fault.sender else version.receiver_code
    if version is SOAP11:
        etree.SubElement(node, "faultcode").text = f"soap:{code}"
        etree.SubElement(node, "faultstring").text = fault.text
        detail_parent = etree.SubElement(node, "detail")
    else:
        code_node = etree.SubElement(node, f"{{{soap_ns}}}Code")
        etree.SubElement(code_node, f"{{{soap_ns}}}Value").text = f"soap:{code}"
        reason = etree.SubElement(node, f"{{{soap_ns}}}Reason")
        text = etree.SubElement(reason, f"{{{soap_ns}}}Text")
        text.set(_XML_LANG, "en")
        text.text = fault.text
        detail_parent = etree.SubElement(node, f"{{{soap_ns}}}Detail")
    detail_parent.append(service_fault(service, fault))
    return _serialise(envelope)
