"""SOAP envelopes 1.1 and 1.2, the one hardened parser, operation naming, faults, WS-Security.

The runtime half of SOAP: what the proxy does to every request. Reading WSDLs and XSDs is
tooling and lives beside this package in `turnout.wsdl`, which imports this one, never the
reverse; nothing here imports zeep.
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
from ._wsse import (
    BASE64_BINARY,
    DEFAULT_MAX_NONCES,
    DEFAULT_WINDOW,
    IDENTITY_ERROR_KINDS,
    PASSWORD_DIGEST,
    PASSWORD_TEXT,
    WSSE_NS,
    WSU_NS,
    Identity,
    IdentityError,
    MAX_USERNAME,
    NonceCache,
    Officer,
    password_digest,
    username_token_header,
    verify_username_token,
)

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
    "Envelope",
    "Fault",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "OperationName",
    "SoapError",
    "SoapVersion",
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
    "BASE64_BINARY",
    "DEFAULT_MAX_NONCES",
    "DEFAULT_WINDOW",
    "IDENTITY_ERROR_KINDS",
    "PASSWORD_DIGEST",
    "PASSWORD_TEXT",
    "WSSE_NS",
    "WSU_NS",
    "Identity",
    "IdentityError",
    "MAX_USERNAME",
    "NonceCache",
    "Officer",
    "password_digest",
    "username_token_header",
    "verify_username_token",
]
