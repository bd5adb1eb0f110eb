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

# A DOCTYPE or ENTITY declaration in any ASCII-compatible encoding, or in UTF-16 either way round.
_DECLARATION = re.compile(
    rb"<!(DOCTYPE|ENTITY)"
    rb"|<\x00!\x00(D\x00O\x00C\x00T\x00Y\x00P\x00E|E\x00N\x00T\x00I\x00T\x00Y)\x00"
    rb"|\x00<\x00!\x00(D\x00O\x00C\x00T\x00Y\x00P\x00E|E\x00N\x00T\x00I\x00T\x00Y)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class XmlLimits:
    """Bounds on a document, checked before and during parsing."""

    max_bytes: int = 1024 * 1024
    max_depth: int = 64

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
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
    if _DECLARATION.search(data):
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
    _check_tree(root, limits.max_depth)
    return root


def _check_tree(root: etree._Element, max_depth: int) -> None:
    """Refuse entity references and nesting past `max_depth`, walking the tree once."""
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > max_depth:
            raise XmlThreat("too-deep", f"document nests deeper than {max_depth}")
        for child in element:
            if isinstance(child, etree._Entity):
                raise XmlThreat("entity", "document references an entity")
            stack.append((child, depth + 1))
