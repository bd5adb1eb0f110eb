"""Everything that differs between SOAP 1.1 and 1.2 lives here, behind one interface.

Nothing above this module branches on the version: it asks the `SoapVersion` for the namespace,
the content type, where the action travels and what a fault looks like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"

_ACTION_PARAM = re.compile(r';\s*action\s*=\s*(?:"([^"]*)"|([^;\s]+))', re.IGNORECASE)


@dataclass(frozen=True)
class SoapVersion:
    name: str
    namespace: str
    content_type: str
    #: fault code for "the caller sent something wrong" and "we failed", in this version's terms
    sender_code: str
    receiver_code: str

    def action(self, headers: Mapping[str, str]) -> str | None:
        """The action the HTTP headers claim, or None when none is given.

        1.1 carries it in the SOAPAction header, 1.2 as the `action` parameter of Content-Type.
        `headers` must be a case-insensitive mapping or use lower-case names.
        """
        if self is SOAP11:
            raw = _header(headers, "soapaction")
            if raw is None:
                return None
            return raw.strip().strip('"')
        content_type = _header(headers, "content-type") or ""
        match = _ACTION_PARAM.search(content_type)
        if not match:
            return None
        return match.group(1) if match.group(1) is not None else match.group(2)

    def fault_content_type(self) -> str:
        return self.content_type

    def __str__(self) -> str:
        return self.name


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


SOAP11 = SoapVersion(
    name="1.1",
    namespace=SOAP11_NS,
    content_type="text/xml; charset=utf-8",
    sender_code="Client",
    receiver_code="Server",
)
SOAP12 = SoapVersion(
    name="1.2",
    namespace=SOAP12_NS,
    content_type="application/soap+xml; charset=utf-8",
    sender_code="Sender",
    receiver_code="Receiver",
)
VERSIONS_BY_NAMESPACE = {v.namespace: v for v in (SOAP11, SOAP12)}


def version_for_content_type(content_type: str | None) -> SoapVersion:
    """A best guess from the HTTP Content-Type alone, for when the body cannot be read."""
    if content_type and "application/soap+xml" in content_type.lower():
        return SOAP12
    return SOAP11
