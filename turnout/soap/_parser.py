"""The one hardened XML parser. Every byte of XML Turnout reads goes through `parse_xml`.

lxml is safe only when told to be: we turn off DTD loading, entity resolution, network access
and huge-tree mode, and we refuse any DOCTYPE outright (SOAP 1.1 and 1.2 both forbid one), so an
entity bomb is never even declared, let alone expanded. Size is checked before parsing, nesting
depth while walking the tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from ._errors import XmlThreat, XmlUnreadable

#: libxml2's own hard ceiling on nesting without XML_PARSE_HUGE; our bound is always below it.
_LIBXML_MAX_DEPTH = 256


def _spelled(codec: str) -> bytes:
    """`<!DOCTYPE` or `<!ENTITY`, any case, as `codec` writes it, as a regex."""
    def letter(char: str) -> bytes:
        forms = {re.escape(char.upper().encode(codec)), re.escape(char.lower().encode(codec))}
        return b"(?:" + b"|".join(sorted(forms)) + b")"
    opener = b"".join(re.escape(c.encode(codec)) for c in "<!")
    words = (b"".join(letter(c) for c in word) for word in ("DOCTYPE", "ENTITY"))
    return opener + b"(?:" + b"|".join(words) + b")"


# A DOCTYPE or ENTITY declaration in any ASCII-compatible encoding, in UTF-16 or UTF-32 either
# way round (libxml2 reads UTF-32 too, and a bomb it refuses as over-amplified would otherwise be
# "unreadable", and forwarded), or in EBCDIC (which a legacy bus behind us may read). One pattern
# per encoding: each starts with a literal, which `re` scans for quickly; one alternation is slower.
_DECLARATIONS = tuple(
    re.compile(_spelled(codec))
    for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037", "cp500")
)


@dataclass(frozen=True)
class XmlLimits:
    """Bounds on a document, checked before and during parsing."""

    max_bytes: int = 1024 * 1024
    max_depth: int = 64
    #: attributes on one element; thousands are an attack on parsers that check them pairwise
    max_attributes: int = 256

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        if self.max_attributes < 1:
            raise ValueError("max_attributes must be at least 1")
        if not 1 <= self.max_depth < _LIBXML_MAX_DEPTH:
            raise ValueError(f"max_depth must be between 1 and {_LIBXML_MAX_DEPTH - 1}")


DEFAULT_LIMITS = XmlLimits()


def make_parser() -> etree.XMLParser:
    """The hardened parser factory. A new parser per call: lxml parsers are not thread-safe."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def parse_xml(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> etree._Element:
    """Parse `data` into an element tree, or raise `XmlThreat` / `XmlUnreadable`."""
    if len(data) > limits.max_bytes:
        raise XmlThreat(
            "too-large", f"document is {len(data)} bytes, over the limit of {limits.max_bytes}"
        )
    if any(pattern.search(data) for pattern in _DECLARATIONS):
        raise XmlThreat("doctype", "document carries a DOCTYPE or entity declaration")
    try:
        root = etree.fromstring(data, parser=make_parser())
    except etree.XMLSyntaxError as exc:
        if "depth" in str(exc).lower():
            raise XmlThreat("too-deep", f"document nests deeper than {limits.max_depth}") from exc
        raise XmlUnreadable(f"not well-formed XML: {exc}") from exc
    except ValueError as exc:  # e.g. a str with an encoding declaration, or an empty document
        raise XmlUnreadable(f"not XML: {exc}") from exc
    if root is None:
        raise XmlUnreadable("empty document")
    tree = root.getroottree()
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlThreat("doctype", "document carries a DOCTYPE")
    _check_tree(root, limits.max_depth, limits.max_attributes)
    return root


def _check_tree(root: etree._Element, max_depth: int, max_attributes: int) -> None:
    """Refuse entity references, nesting past `max_depth` and attribute floods, walking once."""
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > max_depth:
            raise XmlThreat("too-deep", f"document nests deeper than {max_depth}")
        if len(element.attrib) > max_attributes:
            raise XmlThreat(
                "too-many-attributes", f"an element carries more than {max_attributes} attributes"
            )
        for child in element:
            if isinstance(child, etree._Entity):
                raise XmlThreat("entity", "document references an entity")
            stack.append((child, depth + 1))
