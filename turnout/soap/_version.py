"""Everything that differs between SOAP 1.1 and 1.2 lives here, behind one interface.

Nothing above this module branches on the version: it asks the `SoapVersion` for the namespace,
the content type, where the action travels, what its fault codes are called and where a Fault's
parts go (`faults`, from `_fault_layout`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from ._fault_layout import FaultLayout, Soap11Faults, Soap12Faults

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"

_ACTION_PARAM = re.compile(r';\s*action\s*=\s*(?:"([^"]*)"|([^;\s]+))', re.IGNORECASE)


class FaultCode(Enum):
    """The fault codes both versions define, by meaning; `SoapVersion.code_name` names them."""

    SENDER = "sender"  # the caller sent something wrong: Client (1.1), Sender (1.2)
    RECEIVER = "receiver"  # we or a neighbour failed: Server (1.1), Receiver (1.2)
    VERSION_MISMATCH = "VersionMismatch"
    MUST_UNDERSTAND = "MustUnderstand"


@dataclass(frozen=True)
class SoapVersion:
    name: str
    namespace: str
    content_type: str
    #: fault code for "the caller sent something wrong" and "we failed", in this version's terms
    sender_code: str
    receiver_code: str
    #: where a Fault's code, reason and detail go
    faults: FaultLayout

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

    def code_name(self, code: FaultCode) -> str:
        """The local name of `code` in this version: `Client` in 1.1, `Sender` in 1.2."""
        if code is FaultCode.SENDER:
            return self.sender_code
        if code is FaultCode.RECEIVER:
            return self.receiver_code
        return code.value  # VersionMismatch and MustUnderstand are spelled alike in both

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
    faults=Soap11Faults(),
)
SOAP12 = SoapVersion(
    name="1.2",
    namespace=SOAP12_NS,
    content_type="application/soap+xml; charset=utf-8",
    sender_code="Sender",
    receiver_code="Receiver",
    faults=Soap12Faults(),
)
VERSIONS_BY_NAMESPACE = {v.namespace: v for v in (SOAP11, SOAP12)}


def version_for_content_type(content_type: str | None) -> SoapVersion:
    """A best guess from the HTTP Content-Type alone, for when the body cannot be read."""
    if content_type and "application/soap+xml" in content_type.lower():
        return SOAP12
    return SOAP11
