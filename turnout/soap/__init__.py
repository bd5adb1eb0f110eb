"""SOAP envelopes 1.1 and 1.2, the one hardened parser, operation naming and faults."""

from ._envelope import Envelope, OperationName, action_names, read_envelope, service_path
from ._errors import SoapError, XmlThreat, XmlUnreadable
from ._fault import TURNOUT_FAULT_NS, Fault, build_fault
from ._http import HOP_BY_HOP, Headers, HttpRequest, HttpResponse, end_to_end, header, headers_dict
from ._parser import DEFAULT_LIMITS, XmlLimits, make_parser, parse_xml
from ._version import (
    SOAP11,
    SOAP11_NS,
    SOAP12,
    SOAP12_NS,
    SoapVersion,
    version_for_content_type,
)

__all__ = [
    "DEFAULT_LIMITS",
    "Envelope",
    "Fault",
    "HOP_BY_HOP",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "OperationName",
    "SOAP11",
    "SOAP11_NS",
    "SOAP12",
    "SOAP12_NS",
    "SoapError",
    "SoapVersion",
    "TURNOUT_FAULT_NS",
    "XmlLimits",
    "XmlThreat",
    "XmlUnreadable",
    "action_names",
    "build_fault",
    "end_to_end",
    "header",
    "headers_dict",
    "make_parser",
    "parse_xml",
    "read_envelope",
    "service_path",
    "version_for_content_type",
]
