"""SOAP envelopes 1.1 and 1.2, the one hardened parser, operation naming, faults, and WSDL reading.

zeep is not imported here: the proxy imports this package at start-up and never needs zeep; only
WSDL reading needs zeep (`turnout.soap._wsdl_zeep`, loaded when a WSDL is read).
"""

from ._envelope import (
    operation_folder,
    translator_name,
    Envelope,
    OperationName,
    action_names,
    envelope_threats,
    read_envelope,
    service_path,
)
from ._encoding import DEFAULT_MAX_RATIO, content_codings, decode_content, is_encoded
from ._errors import SoapError, XmlThreat, XmlUnreadable
from ._fault import TURNOUT_FAULT_NS, Fault, build_fault
from ._http import HOP_BY_HOP, Headers, HttpRequest, HttpResponse, end_to_end, header, headers_dict
from ._multipart import (
    MimePart,
    MultipartUnreadable,
    RelatedParts,
    is_multipart_related,
    looks_like_xml,
    split_related,
    xml_parts,
)
from ._target import BadTarget, Target, normalise_target
from ._parser import DEFAULT_LIMITS, XmlLimits, make_parser, parse_xml
from ._version import (
    SOAP11,
    SOAP11_NS,
    SOAP12,
    SOAP12_NS,
    SoapVersion,
    version_for_content_type,
)
from ._wsdl_example import example_envelope, example_value
from ._wsdl_fetch import DocumentSet, WsdlError, fetch_documents
from ._wsdl_model import (
    Binding,
    Document,
    Facets,
    FaultInfo,
    Field,
    Message,
    Operation,
    Port,
    Problem,
    Service,
    SimpleType,
    Wsdl,
)
from ._wsdl_read import read_documents, read_wsdl
from ._wsdl_validate import PayloadSchema, check_envelope, compile_schemas

__all__ = [
    "operation_folder",
    "translator_name",
    "DEFAULT_MAX_RATIO",
    "BadTarget",
    "Target",
    "content_codings",
    "decode_content",
    "is_encoded",
    "normalise_target",
    "MimePart",
    "MultipartUnreadable",
    "RelatedParts",
    "envelope_threats",
    "is_multipart_related",
    "looks_like_xml",
    "split_related",
    "xml_parts",
    "DEFAULT_LIMITS",
    "HOP_BY_HOP",
    "SOAP11",
    "SOAP11_NS",
    "SOAP12",
    "SOAP12_NS",
    "TURNOUT_FAULT_NS",
    "Binding",
    "Document",
    "DocumentSet",
    "Envelope",
    "Facets",
    "Fault",
    "FaultInfo",
    "Field",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "Message",
    "Operation",
    "OperationName",
    "PayloadSchema",
    "Port",
    "Problem",
    "Service",
    "SimpleType",
    "SoapError",
    "SoapVersion",
    "Wsdl",
    "WsdlError",
    "XmlLimits",
    "XmlThreat",
    "XmlUnreadable",
    "action_names",
    "build_fault",
    "check_envelope",
    "compile_schemas",
    "end_to_end",
    "example_envelope",
    "example_value",
    "fetch_documents",
    "header",
    "headers_dict",
    "make_parser",
    "parse_xml",
    "read_documents",
    "read_envelope",
    "read_wsdl",
    "service_path",
    "version_for_content_type",
]
