"""Reading a SOAP envelope: version, Header, Body, the operation it names, and the action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from lxml import etree

from ._errors import XmlThreat, XmlUnreadable
from ._parser import DEFAULT_LIMITS, XmlLimits, parse_xml
from ._version import VERSIONS_BY_NAMESPACE, SoapVersion

#: XInclude's namespace, and the draft one libxml2 still honours. We never process XInclude, but
#: an XInclude-aware parser behind us (the legacy bus) would fetch the file or URL it names.
_XINCLUDE = ("{http://www.w3.org/2001/XInclude}*", "{http://www.w3.org/2003/XInclude}*")


@dataclass(frozen=True, order=True)
class OperationName:
    """An operation: the service path it was posted to and the qualified name of its Body child."""

    service: str
    name: str
    namespace: str = ""

    @property
    def key(self) -> str:
        """The route-table key: `/pnc PersonEnquiry`. Namespace is informative, not part of it."""
        return f"{self.service} {self.name}"

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True)
class Envelope:
    version: SoapVersion
    root: etree._Element
    header: etree._Element | None
    body: etree._Element
    operation: OperationName
    #: the action the HTTP headers claim (SOAPAction in 1.1, the action parameter in 1.2)
    action: str | None

    @property
    def payload(self) -> etree._Element:
        """The first element in the Body (comments and processing instructions before it are
        skipped, as when naming the operation): the operation's request or response element."""
        return next(child for child in self.body if isinstance(child.tag, str))

    @property
    def action_mismatch(self) -> bool:
        """True when a non-empty action names another operation than the Body does."""
        return not action_names(self.action, self.operation.name)

    @property
    def is_fault(self) -> bool:
        return etree.QName(self.payload).localname == "Fault" and (
            etree.QName(self.payload).namespace == self.version.namespace
        )


def action_names(action: str | None, operation: str) -> bool:
    """Does `action` name `operation`? An absent or empty action names anything.

    Actions are URIs chosen by whoever wrote the WSDL (`urn:pnc#PersonEnquiry`,
    `http://example/pnc/PersonEnquiry`); the operation is their last segment, after `/`, `#` or
    `:`. A trailing `Request` on the Body element (bare style) is allowed for.
    """
    if not action:
        return True
    last = action.rstrip("/")
    for sep in ("#", "/", ":"):
        last = last.rsplit(sep, 1)[-1]
    return last in (operation, operation.removesuffix("Request"))


def read_envelope(
    data: bytes,
    path: str,
    headers: Mapping[str, str] | None = None,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> Envelope:
    """Parse `data` as a SOAP envelope posted to `path`.

    Raises `XmlThreat` for hostile or ambiguous documents and `XmlUnreadable` for anything that
    is not a usable envelope.
    """
    root = parse_xml(data, limits)
    if next(root.iter(*_XINCLUDE), None) is not None:
        raise XmlThreat("xinclude", "envelope carries an XInclude element")
    qname = etree.QName(root)
    version = VERSIONS_BY_NAMESPACE.get(qname.namespace or "")
    if qname.localname != "Envelope" or version is None:
        raise XmlUnreadable(f"root element is {qname.text}, not a SOAP Envelope")
    header = body = None
    for child in root:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        child_name = etree.QName(child)
        if child_name.namespace != version.namespace:
            continue
        if child_name.localname == "Header":
            if header is not None:
                raise XmlThreat("ambiguous-envelope", "envelope has two Header elements")
            header = child
        elif child_name.localname == "Body":
            if body is not None:
                raise XmlThreat("ambiguous-envelope", "envelope has two Body elements")
            body = child
    if body is None:
        raise XmlUnreadable("envelope has no Body")
    payload = next((c for c in body if isinstance(c.tag, str)), None)
    if payload is None:
        raise XmlUnreadable("Body is empty: no operation to name")
    payload_name = etree.QName(payload)
    operation = OperationName(
        service=service_path(path),
        name=payload_name.localname,
        namespace=payload_name.namespace or "",
    )
    action = version.action(headers) if headers is not None else None
    return Envelope(version, root, header, body, operation, action)


def service_path(path: str) -> str:
    """The service part of a request path: no query string, no trailing slash."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    return path.rstrip("/") or "/"
