"""Reading a SOAP envelope: version, Header, Body, the operation it names, and the action.

The envelope's own threats (an XInclude element, two Headers or two Bodies) are checked by
`envelope_threats`, which `parse_xml` runs on the tree it reads and, for a document that is not
well-formed, on the tree a recovering parser reads, so trailing junk cannot turn them into
"unreadable". Like the parser's checks, it never loops over elements in Python: lxml's
`iter`/`iterchildren` filters run in C, and only matches come back (a Body may hold 250,000
siblings, or comments before its payload). The one exception is bounded: an Envelope of at most
`_FEW_CHILDREN` children (a Header and a Body, as every SOAP stack writes it) has them read in
Python, which is cheaper than setting up a C filter for each of the two names.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from urllib.parse import quote

from lxml import etree

from ._errors import XmlThreat, XmlUnreadable
from ._multipart import MimePart
from ._parser import DEFAULT_LIMITS, XmlLimits, parse_xml
from ._version import VERSIONS_BY_NAMESPACE, SoapVersion

#: XInclude's namespace, and the draft one libxml2 still honours. We never process XInclude, but
#: an XInclude-aware parser behind us (the legacy bus) would fetch the file or URL it names.
_XINCLUDE = ("{http://www.w3.org/2001/XInclude}*", "{http://www.w3.org/2003/XInclude}*")

#: an Envelope with at most this many children has them read in Python (see the docstring)
_FEW_CHILDREN = 8

#: namespace -> (its version, the Header's tag, the Body's tag)
_PARTS = {
    namespace: (version, f"{{{namespace}}}Header", f"{{{namespace}}}Body")
    for namespace, version in VERSIONS_BY_NAMESPACE.items()
}


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
    #: the MIME parts that came with it in a multipart/related (MTOM / SwA) body, every part
    #: but the root, in order; none for a plain body (see `read_message`)
    attachments: tuple[MimePart, ...] = ()

    @property
    def payload(self) -> etree._Element:
        """The first element in the Body (comments and processing instructions before it are
        skipped, as when naming the operation): the operation's request or response element."""
        payload = _first_element(self.body)
        assert payload is not None, "an Envelope is read only with a payload (read_envelope)"
        return payload

    @functools.cached_property
    def action_mismatch(self) -> bool:
        """True when a non-empty action names another operation than the Body does (worked out
        once: the guard, the bus-safety check and the router all ask)."""
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
    root = parse_xml(data, limits, check=envelope_threats)
    tag = root.tag
    namespace, localname = _split(tag)
    parts = _PARTS.get(namespace)
    if localname != "Envelope" or parts is None:
        raise XmlUnreadable(f"root element is {tag}, not a SOAP Envelope")
    version, header_tag, body_tag = parts
    header = body = None
    if len(root) <= _FEW_CHILDREN:
        for child in root:
            if child.tag == header_tag and header is None:
                header = child
            elif child.tag == body_tag and body is None:
                body = child
    else:
        header = next(root.iterchildren(header_tag), None)
        body = next(root.iterchildren(body_tag), None)
    if body is None:
        raise XmlUnreadable("envelope has no Body")
    payload = _first_element(body)
    if payload is None:
        raise XmlUnreadable("Body is empty: no operation to name")
    payload_namespace, payload_name = _split(payload.tag)
    operation = OperationName(service=service_path(path), name=payload_name, namespace=payload_namespace)
    action = version.action(headers) if headers is not None else None
    return Envelope(version, root, header, body, operation, action)


def _split(tag: str) -> tuple[str, str]:
    """`{namespace}local` (or `local`) as (namespace, local): what `etree.QName` gives, without
    making one. Not QName for a recovered tree either: it refuses names such as an unbound
    `s:Envelope`."""
    if tag[:1] == "{":
        namespace, _, localname = tag[1:].partition("}")
        return namespace, localname
    return "", tag


def _first_element(parent: etree._Element) -> etree._Element | None:
    """The first element child of `parent`, comments and processing instructions before it
    skipped (in C, however many), or None."""
    try:
        first = parent[0]
    except IndexError:
        return None
    if isinstance(first.tag, str):
        return first
    return next(parent.iterchildren(etree.Element), None)


def envelope_threats(root: etree._Element) -> None:
    """Refuse an XInclude element anywhere, and an Envelope with two Headers or two Bodies.

    Run by `parse_xml` on the strict tree and on a recovered one (see `read_envelope`). Any
    other root is left alone here: not being an envelope makes a document unreadable, not hostile.
    """
    if next(root.iter(*_XINCLUDE), None) is not None:
        raise XmlThreat("xinclude", "envelope carries an XInclude element")
    tag = root.tag
    if not isinstance(tag, str):
        return
    namespace, localname = _split(tag)
    parts = _PARTS.get(namespace)
    if localname != "Envelope" or parts is None:
        return
    _, header_tag, body_tag = parts
    if len(root) <= _FEW_CHILDREN:
        tags = [child.tag for child in root]
        for part, part_tag in (("Header", header_tag), ("Body", body_tag)):
            if tags.count(part_tag) > 1:
                raise XmlThreat("ambiguous-envelope", f"envelope has two {part} elements")
        return
    for part, part_tag in (("Header", header_tag), ("Body", body_tag)):
        if len(list(islice(root.iterchildren(part_tag), 2))) > 1:
            raise XmlThreat("ambiguous-envelope", f"envelope has two {part} elements")


def service_path(path: str) -> str:
    """The service part of a request path: no query string, no trailing slash."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    return path.rstrip("/") or "/"


def translator_name(service: str, operation: str) -> str:
    """The one name of an operation off the wire: `/pnc`, `VehicleEnquiry` -> `pnc/VehicleEnquiry`.

    Every segment of the service path is kept, in its case: `/merlin/MerlinService`,
    `GetMissingPerson` -> `merlin/MerlinService/GetMissingPerson`; the root path `/` gives the
    operation alone. It is the translator a route uses unless it names one, the name a scaffold
    gives the mapping it writes, and (through `operation_folder`) the folder the recording store
    and a scaffold's golden stub put the operation's recordings in, so all four agree.
    """
    path = service.strip("/")
    return f"{path}/{operation}" if path else operation


#: a folder name longer than this is cut and ends in a digest of the whole (file systems cap
#: names at 255 bytes; a percent-encoded segment can be three times its text)
_MAX_FOLDER = 120


def operation_folder(service: str, operation: str) -> tuple[str, ...]:
    """The folders, one per segment of `translator_name(service, operation)`, that hold an
    operation's recordings: `/merlin/MerlinService GetMissingPerson` ->
    `("merlin", "MerlinService", "GetMissingPerson")`.

    Each segment is made a safe, collision-free folder name: percent-encoded but for letters,
    digits and `_.-~`; a leading `.` or `_` encoded too (so no segment is hidden or collides with
    the store's own `_unreadable`, `_rejected`); an empty one is `_`; a long one is cut and
    ends in a digest.
    """
    return tuple(_folder(segment) for segment in translator_name(service, operation).split("/"))


def _folder(name: str) -> str:
    if not name:
        return "_"  # `_` is the store's own, so an empty segment cannot collide
    encoded = quote(name, safe="", errors="surrogatepass")  # leaves letters, digits, `_.-~`
    if encoded[0] in "._":
        encoded = f"%{ord(encoded[0]):02X}{encoded[1:]}"
    if len(encoded) > _MAX_FOLDER:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        encoded = f"{encoded[: _MAX_FOLDER - 17]}~{digest}"
    return encoded
