"""Response and fault envelopes as the legacy bus writes them.

Every envelope carries a `MessageHeader` (a fresh uuid and a legacy timestamp) in the service's
namespace. Faults follow the service's SOAP version and carry a `ServiceFault` detail element
(errorCode, errorText, field) declared in the service XSD, so clients can read it as typed data.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from lxml import etree

from ...soap import FaultCode, SoapFault, new_envelope, serialise, write_fault
from ._codec import add, add_optional, format_timestamp, new_element
from ._fault import BusFault
from ._service import BusService


def _message_header(service: BusService, now: datetime) -> etree._Element:
    header = new_element(service.namespace, service.prefix, "MessageHeader")
    add(header, "messageId", str(uuid.uuid4()))
    add(header, "timestamp", format_timestamp(now))
    return header


def response_envelope(service: BusService, payload: etree._Element, now: datetime) -> bytes:
    """`payload` (the `<Op>Response` element) wrapped in a header-carrying envelope."""
    envelope, body = new_envelope(
        service.version, {service.prefix: service.namespace}, [_message_header(service, now)]
    )
    body.append(payload)
    return serialise(envelope)


def service_fault(service: BusService, fault: BusFault) -> etree._Element:
    """The `ServiceFault` detail element the XSD declares."""
    detail = new_element(service.namespace, service.prefix, "ServiceFault")
    add(detail, "errorCode", fault.code)
    add(detail, "errorText", fault.text)
    add_optional(detail, "field", fault.field)
    return detail


def fault_envelope(service: BusService, fault: BusFault, now: datetime) -> bytes:
    """A SOAP Fault of the service's version, with the message header and a `ServiceFault`
    detail, written by the one Fault writer (`turnout.soap.write_fault`)."""
    if fault.version_mismatch:
        code = FaultCode.VERSION_MISMATCH
    else:
        code = FaultCode.SENDER if fault.sender else FaultCode.RECEIVER
    soap_fault = SoapFault(
        fault.text,
        code,
        header=(_message_header(service, now),),
        detail=(service_fault(service, fault),),
    )
    return write_fault(service.version, soap_fault, {service.prefix: service.namespace})
