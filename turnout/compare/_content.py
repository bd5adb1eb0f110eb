"""What an element means, as compare sees it: children, text, attributes, and SOAP Faults.

Namespace prefixes and declarations, attribute order, comments, processing instructions and
whitespace-only text between elements never reach these views. A leaf's text counts as written,
leading and trailing whitespace included; in mixed content the non-blank runs of text count.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from turnout.soap import SOAP11_NS, SOAP12_NS

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FAULT_TAGS = frozenset({f"{{{SOAP11_NS}}}Fault", f"{{{SOAP12_NS}}}Fault"})

_NONE: list[etree._Element] = []  # shared: callers never change the list they are given

#: A leaf's text (str) or the non-blank runs of text of an element with children (tuple).
Text = str | tuple[str, ...]


def content(element: etree._Element) -> tuple[list[etree._Element], Text]:
    """The element children of `element` and its text, with comments and PIs left out.

    Text either side of a comment is one run, as if the comment were not there.
    """
    if not len(element):
        return _NONE, element.text or ""
    children: list[etree._Element] = []
    runs: list[str] = []
    current = element.text or ""
    for child in element:
        if isinstance(child.tag, str):
            runs.append(current)
            children.append(child)
            current = child.tail or ""
        else:  # a comment or processing instruction: its tail continues the run
            current += child.tail or ""
    if not children:
        return children, current
    runs.append(current)
    return children, tuple(run for run in runs if run.strip())


def resolve_qname(text: str, element: etree._Element) -> str:
    """`soap:Client` as `{uri}Client`, through `element`'s in-scope prefixes; as is if unbound."""
    value = text.strip()
    prefix, colon, local = value.rpartition(":")
    uri = element.nsmap.get(prefix or None)
    if uri is None or (colon and not prefix):
        return value
    return f"{{{uri}}}{local}"


def attribute_value(name: str, value: str, element: etree._Element) -> str:
    """An attribute's value as compared: `xsi:type` names a type, so its prefix does not count."""
    if name == XSI_TYPE:
        return resolve_qname(value, element)
    return value


@dataclass(frozen=True)
class FaultView:
    """The parts of a SOAP Fault that compare: code(s), reason(s) and, on request, the detail.

    `codes` are the elements holding the fault code QName: `faultcode` in 1.1; `Code/Value` then
    each `Subcode/Value` in 1.2. `reasons` are `(language, element)`: `faultstring` in 1.1 (no
    language), each `Reason/Text` in 1.2.
    """

    codes: tuple[etree._Element, ...]
    reasons: tuple[tuple[str, etree._Element], ...]
    detail: etree._Element | None


def fault_view(fault: etree._Element) -> FaultView:
    """Read the comparable parts of a 1.1 or 1.2 Fault, by local name (some stacks qualify the
    1.1 children, which the spec says not to)."""
    codes: list[etree._Element] = []
    reasons: list[tuple[str, etree._Element]] = []
    detail = None
    for child in _elements(fault):
        local = etree.QName(child).localname
        if local == "faultcode":
            codes.append(child)
        elif local == "faultstring":
            reasons.append(("", child))
        elif local in ("detail", "Detail"):
            detail = child
        elif local == "Code":
            codes.extend(_code_values(child))
        elif local == "Reason":
            for text in _elements(child):
                reasons.append((text.get(XML_LANG, ""), text))
    return FaultView(tuple(codes), tuple(reasons), detail)


def _code_values(code: etree._Element) -> list[etree._Element]:
    values = []
    node: etree._Element | None = code
    while node is not None:
        parts = {etree.QName(c).localname: c for c in _elements(node)}
        if "Value" in parts:
            values.append(parts["Value"])
        node = parts.get("Subcode")
    return values


def _elements(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def fault_code(element: etree._Element) -> str:
    """A fault code as compared: the QName it names, whatever prefix spells it."""
    return resolve_qname(element.text or "", element)
