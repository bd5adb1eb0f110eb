"""Gathering the files a WSDL is made of, safely, and never from the network unless asked.

Starting from the WSDL (a path or a URL), every `wsdl:import`, `xs:import`, `xs:include` and
`xs:redefine` with a location is followed. Each file is read through the hardened parser
(`parse_xml`: no DTD, no entities, size and depth bounds). A remote location is fetched only
when network access was given (`allow_network`), or when it is on the same origin as a WSDL the
user named by URL; otherwise it is *reported*, not fetched. A fetch has a timeout, so nothing
hangs on a dead address. An import that cannot be read is a problem on the list, not the end of
the reading: the rest of the WSDL is still read.

The well-known schemas that old WSDLs import by namespace (SOAP encoding, `xml:`) are served
from small copies bundled with Turnout (`_known`), never fetched.
"""

from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from lxml import etree

from ..soap import SoapError, XmlLimits, XmlThreat, XmlUnreadable, parse_xml
from ._known import KNOWN_SCHEMAS
from ._model import OLD_XSD_NS, WSDL_NS, XSD_NS, Problem

#: bounds for WSDL and schema files: bigger than a SOAP message, still bounded
WSDL_LIMITS = XmlLimits(max_bytes=32 * 1024 * 1024, max_depth=200)
DEFAULT_TIMEOUT = 10.0
_SCHEMA_NAMESPACES = (XSD_NS, *OLD_XSD_NS)
_REFERENCES = ("import", "include", "redefine", "override")


class WsdlError(SoapError):
    """The WSDL itself cannot be read. `str()` says which file and what is wrong."""

    def __init__(self, file: str, message: str) -> None:
        super().__init__(f"{file}: {message}")
        self.file = file
        self.message = message


@dataclass
class Loaded:
    """One file of the WSDL, parsed, with where it lives (an absolute path or a URL)."""

    location: str
    root: etree._Element
    kind: str  # "wsdl" or "schema" or "bundled"
    #: for a schema reached by xs:include: the target namespace of the including schema
    included_by: str | None = None


@dataclass
class Skipped:
    """A referenced file that was not read, and why; what namespace it was to provide."""

    location: str
    reason: str
    kind: str  # "not fetched" or "unreadable"
    namespace: str | None = None
    #: for xs:include: the schema it is part of (its target namespace)
    included_by: str | None = None


@dataclass
class DocumentSet:
    """Every file reached from the entry WSDL, in the order found."""

    entry: str
    loaded: dict[str, Loaded] = field(default_factory=dict)
    skipped: dict[str, Skipped] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def wsdl_documents(self) -> list[Loaded]:
        return [doc for doc in self.loaded.values() if doc.kind == "wsdl"]

    def schema_elements(self) -> list[tuple[Loaded, etree._Element]]:
        """Every xs:schema: standalone files and those inside wsdl:types, in order."""
        found: list[tuple[Loaded, etree._Element]] = []
        for doc in self.loaded.values():
            if doc.kind in ("schema", "bundled"):
                found.append((doc, doc.root))
                continue
            for types in doc.root.iterchildren(f"{{{WSDL_NS}}}types"):
                for schema in types:
                    if isinstance(schema.tag, str) and _is_schema(schema):
                        found.append((doc, schema))
        return found


def is_url(location: str) -> bool:
    return urlsplit(location).scheme.lower() in ("http", "https")


def _is_schema(element: etree._Element) -> bool:
    return etree.QName(element).localname == "schema" and etree.QName(element).namespace in (
        _SCHEMA_NAMESPACES
    )


def absolute(location: str, base: str) -> str:
    """`location` as found in `base`: a URL stays a URL, a relative path is relative to `base`."""
    location = location.strip()
    if location.lower().startswith("file:"):
        return str(Path(urllib.request.url2pathname(urlsplit(location).path)).resolve())
    if is_url(location) or location in KNOWN_SCHEMAS:
        return location
    if is_url(base):
        return urljoin(base, location)
    return str((Path(base).parent / location).resolve())


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class Fetcher:
    """Reads one file at a time within the rules: local files freely, URLs only if allowed."""

    def __init__(self, entry: str, allow_network: bool, timeout: float) -> None:
        self.allow_network = allow_network
        self.timeout = timeout
        # a WSDL named by URL may have its own imports fetched from the same origin
        self.origins = {_origin(entry)} if is_url(entry) else set()

    def may_fetch(self, url: str) -> bool:
        return self.allow_network or _origin(url) in self.origins

    def read(self, location: str) -> bytes:
        """The bytes at `location`. Raises OSError (with a reason a person can read)."""
        if location in KNOWN_SCHEMAS:
            return KNOWN_SCHEMAS[location]
        if not is_url(location):
            path = Path(location)
            size = path.stat().st_size
            if size > WSDL_LIMITS.max_bytes:
                raise OSError(f"{size} bytes, over the limit of {WSDL_LIMITS.max_bytes}")
            return path.read_bytes()
        request = urllib.request.Request(location, headers={"User-Agent": "turnout-wsdl"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:  # noqa: S310
                data: bytes = reply.read(WSDL_LIMITS.max_bytes + 1)
        except urllib.error.HTTPError as exc:
            raise OSError(f"HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise OSError(f"no answer within {self.timeout:g} s") from None
            raise OSError(str(reason)) from None
        except TimeoutError:
            raise OSError(f"no answer within {self.timeout:g} s") from None
        if len(data) > WSDL_LIMITS.max_bytes:
            raise OSError(f"over the limit of {WSDL_LIMITS.max_bytes} bytes")
        return data


def fetch_documents(
    location: str, *, allow_network: bool = False, timeout: float = DEFAULT_TIMEOUT
) -> DocumentSet:
    """Read the WSDL at `location` and every file it reaches. Raises `WsdlError` only when the
    WSDL itself cannot be read; problems with the files it imports are on `.problems`."""
    entry = location if is_url(location) else str(Path(location).resolve())
    if location.lower().startswith("file:"):
        entry = absolute(location, os.getcwd())
    fetcher = Fetcher(entry, allow_network, timeout)
    documents = DocumentSet(entry)
    if is_url(entry) and not fetcher.may_fetch(entry):  # pragma: no cover - may_fetch allows it
        raise WsdlError(entry, "a WSDL named by URL needs network access")
    try:
        root = parse_xml(fetcher.read(entry), WSDL_LIMITS)
    except FileNotFoundError:
        raise WsdlError(entry, "file not found") from None
    except IsADirectoryError:
        raise WsdlError(entry, "is a directory, not a WSDL file") from None
    except OSError as exc:
        raise WsdlError(entry, f"cannot read: {exc.strerror or exc}") from None
    except XmlThreat as exc:
        raise WsdlError(entry, f"refused: {exc}") from None
    except XmlUnreadable as exc:
        raise WsdlError(entry, str(exc)) from None
    _check_root(entry, root)
    documents.loaded[entry] = Loaded(entry, root, "wsdl")

    queue: deque[tuple[Loaded, etree._Element]] = deque([(documents.loaded[entry], root)])
    while queue:
        doc, element = queue.popleft()
        for reference in _references(doc, element):
            target, kind, namespace, included_by, node = reference
            if target in documents.loaded or target in documents.skipped:
                continue
            loaded = _load_one(documents, fetcher, doc, target, kind, namespace, included_by, node)
            if loaded is not None:
                queue.append((loaded, loaded.root))
    return documents


def _check_root(entry: str, root: etree._Element) -> None:
    name = etree.QName(root)
    if name.localname == "definitions" and name.namespace == WSDL_NS:
        return
    if name.localname == "description":
        raise WsdlError(entry, "this is a WSDL 2.0 description; Turnout reads WSDL 1.1")
    if name.localname == "schema":
        raise WsdlError(entry, "this is an XML Schema, not a WSDL (its root is xs:schema)")
    raise WsdlError(
        entry, f"not a WSDL: the root element is {name.localname!r} in {name.namespace!r}, "
        f"not wsdl:definitions in {WSDL_NS!r}"
    )


def _references(
    doc: Loaded, element: etree._Element
) -> list[tuple[str, str, str | None, str | None, etree._Element]]:
    """(location, kind, namespace, including schema's namespace, node) of each reference."""
    found: list[tuple[str, str, str | None, str | None, etree._Element]] = []
    schemas: list[etree._Element] = []
    if doc.kind == "wsdl":
        for node in element.iterchildren(f"{{{WSDL_NS}}}import"):
            location = node.get("location")
            if location:
                found.append((absolute(location, doc.location), "wsdl", node.get("namespace"),
                              None, node))
        for types in element.iterchildren(f"{{{WSDL_NS}}}types"):
            schemas.extend(child for child in types if isinstance(child.tag, str)
                           and _is_schema(child))
    elif _is_schema(element):
        schemas.append(element)
    for schema in schemas:
        for node in schema:
            if not isinstance(node.tag, str) or etree.QName(node).namespace not in (
                _SCHEMA_NAMESPACES
            ):
                continue
            what = etree.QName(node).localname
            if what not in _REFERENCES:
                continue
            namespace = node.get("namespace") if what == "import" else schema.get(
                "targetNamespace"
            )
            location = node.get("schemaLocation")
            if not location and what == "import" and namespace in _BY_NAMESPACE:
                location = _BY_NAMESPACE[namespace]
            if not location:
                continue  # an import by namespace alone: its types come from elsewhere
            included_by = schema.get("targetNamespace") if what != "import" else None
            found.append((absolute(location, doc.location), "schema", namespace, included_by,
                          node))
    return found


#: namespaces whose schemas Turnout bundles, so an import by namespace alone still resolves
_BY_NAMESPACE = {
    "http://schemas.xmlsoap.org/soap/encoding/": "http://schemas.xmlsoap.org/soap/encoding/",
    "http://www.w3.org/XML/1998/namespace": "http://www.w3.org/2001/xml.xsd",
}


def _load_one(
    documents: DocumentSet, fetcher: Fetcher, referrer: Loaded, target: str, kind: str,
    namespace: str | None, included_by: str | None, node: etree._Element,
) -> Loaded | None:
    line = node.sourceline
    if target in KNOWN_SCHEMAS:
        loaded = Loaded(target, parse_xml(KNOWN_SCHEMAS[target], WSDL_LIMITS), "bundled")
        documents.loaded[target] = loaded
        return loaded
    if is_url(target) and not fetcher.may_fetch(target):
        documents.skipped[target] = Skipped(
            target, "remote, not fetched (give --allow-network to fetch it)", "not fetched",
            namespace, included_by,
        )
        documents.problems.append(Problem(
            referrer.location,
            f"imports {target} (a remote {kind}); not fetched without --allow-network, so "
            "what it declares is unknown here",
            line,
        ))
        return None
    try:
        root = parse_xml(fetcher.read(target), WSDL_LIMITS)
    except FileNotFoundError:
        reason = "file not found"
    except OSError as exc:
        reason = f"cannot read: {exc.strerror or exc}"
    except XmlThreat as exc:
        reason = f"refused: {exc}"
    except XmlUnreadable as exc:
        reason = str(exc)
    else:
        actual = "wsdl" if etree.QName(root).namespace == WSDL_NS else (
            "schema" if _is_schema(root) else None
        )
        if actual is None:
            reason = f"neither a WSDL nor a schema (root element {etree.QName(root).localname!r})"
        else:
            loaded = Loaded(target, root, actual, included_by)
            documents.loaded[target] = loaded
            return loaded
    documents.skipped[target] = Skipped(target, reason, "unreadable", namespace, included_by)
    documents.problems.append(Problem(referrer.location, f"imports {target}: {reason}", line))
    return None
