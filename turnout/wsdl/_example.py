"""Example SOAP envelopes for an operation, with values the schema accepts.

Every element the schema allows is shown once (optional ones too, so a person sees every
field), the first option of each choice, the members of a substitution group in its place, and
values that satisfy the type's facets: the first enumeration value, a string matching the
pattern, a number inside the range, a length inside the bounds. rpc/encoded messages get the
`xsi:type` and `SOAP-ENC:arrayType` attributes encoded clients send.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from lxml import etree

from ..soap import SOAP11, SOAP12
from ._model import (
    SOAP_ENC_NS,
    XSD_NS,
    XSI_NS,
    Field,
    Operation,
    SimpleType,
    split_clark,
)
from ._regex import pattern_example

_VALUES = {
    "boolean": "true", "float": "1.5", "double": "1.5", "decimal": "1.5",
    "duration": "PT1H", "dateTime": "2026-03-10T09:15:00Z", "dateTimeStamp": "2026-03-10T09:15:00Z",
    "time": "09:15:00", "date": "2026-03-10", "gYearMonth": "2026-03", "gYear": "2026",
    "gMonthDay": "--03-10", "gDay": "---10", "gMonth": "--03", "hexBinary": "0A1B",
    "base64Binary": "ZXhhbXBsZQ==", "anyURI": "http://example.com/", "QName": "example",
    "language": "en", "NMTOKENS": "example", "IDREFS": "example1", "ENTITIES": "example",
    "ID": "example1", "IDREF": "example1", "NOTATION": "example",
}
_INTEGERS = {
    "integer": 1, "long": 1, "int": 1, "short": 1, "byte": 1, "nonNegativeInteger": 1,
    "positiveInteger": 1, "unsignedLong": 1, "unsignedInt": 1, "unsignedShort": 1,
    "unsignedByte": 1, "nonPositiveInteger": -1, "negativeInteger": -1,
}
_NUMBERS = {"float", "double", "decimal"} | set(_INTEGERS)
_MAX_EXAMPLE_DEPTH = 12


def example_value(simple: SimpleType | None, name: str = "") -> str:
    """A value of `simple` that its facets accept."""
    if simple is None:
        return "example"
    facets = simple.facets
    if facets.enumeration:
        return facets.enumeration[0]
    for pattern in facets.patterns:
        found = pattern_example(pattern)
        if found is not None:
            return found
    builtin = simple.builtin
    if builtin in _NUMBERS:
        return _number(simple)
    text = _VALUES.get(builtin, "example")
    low = facets.length if facets.length is not None else facets.min_length
    high = facets.length if facets.length is not None else facets.max_length
    if builtin in ("string", "normalizedString", "token", "Name", "NCName", "NMTOKEN",
                   "anyType", "anySimpleType"):
        if low is not None and len(text) < low:
            text = (text * (low // len(text) + 1))[:low]
        if high is not None and len(text) > high:
            text = text[:max(high, 0)]
    return text


def _number(simple: SimpleType) -> str:
    facets = simple.facets
    value = Decimal(_INTEGERS.get(simple.builtin, 1)) if simple.builtin in _INTEGERS else (
        Decimal("1.5")
    )
    if facets.fraction_digits == 0 or facets.total_digits == 1:
        value = Decimal(1) if value > 0 else value

    def bound(text: str | None) -> Decimal | None:
        try:
            return Decimal(text) if text is not None else None
        except InvalidOperation:
            return None

    low, high = bound(facets.min_inclusive), bound(facets.max_inclusive)
    low_x, high_x = bound(facets.min_exclusive), bound(facets.max_exclusive)
    if low is not None and value < low:
        value = low
    if low_x is not None and value <= low_x:
        value = low_x + 1
    if high is not None and value > high:
        value = high
    if high_x is not None and value >= high_x:
        value = high_x - 1
    if simple.builtin in _INTEGERS:
        return str(int(value))
    return str(value)


class _Builder:
    def __init__(self, encoded: bool) -> None:
        self.encoded = encoded

    def add(self, parent: etree._Element, field: Field, depth: int) -> None:
        if field.kind == "attribute":
            parent.set(_tag(field), field.fixed or field.default or example_value(field.simple))
            return
        if field.kind == "any":
            if field.min_occurs > 0 and field.process_contents != "strict":
                etree.SubElement(parent, "{urn:example:any}anything")
            return
        if field.kind == "sequence":
            for child in field.children:
                self.add(parent, child, depth)
            return
        if field.kind == "choice":
            option = _first_option(field)
            if option is not None:
                for _ in range(max(field.min_occurs, 1)):
                    self.add(parent, option, depth)
            return
        if field.recursive and field.optional:
            return
        if field.abstract and field.optional:
            return
        for _ in range(max(field.min_occurs, 1)):
            self._element(parent, field, depth)

    def _element(self, parent: etree._Element, field: Field, depth: int) -> None:
        element = etree.SubElement(parent, _tag(field))
        if depth > _MAX_EXAMPLE_DEPTH or field.recursive or field.unresolved:
            return
        if field.fixed is not None:
            element.text = field.fixed
        elif field.simple is not None:
            element.text = example_value(field.simple, field.name)
        if self.encoded:
            self._encoding(element, field)
        for child in field.children:
            if child.kind == "attribute":
                self.add(element, child, depth + 1)
        for child in field.children:
            if child.kind != "attribute":
                self.add(element, child, depth + 1)

    def _encoding(self, element: etree._Element, field: Field) -> None:
        """xsi:type (and SOAP-ENC:arrayType) as rpc/encoded clients write them."""
        if field.encoded_array:
            items = field.elements()
            item_type = items[0].type_name if items else None
            element.set(f"{{{XSI_NS}}}type", _qname_text(element, SOAP_ENC_NS, "Array"))
            if item_type:
                namespace, local = split_clark(item_type)
                element.set(f"{{{SOAP_ENC_NS}}}arrayType",
                            _qname_text(element, namespace, local) + f"[{max(1, len(items))}]")
            return
        if field.type_name:
            namespace, local = split_clark(field.type_name)
            element.set(f"{{{XSI_NS}}}type", _qname_text(element, namespace, local))


def _first_option(choice: Field) -> Field | None:
    for option in choice.children:
        if not option.recursive and not option.abstract and not option.unresolved:
            return option
    return choice.children[0] if choice.children else None


def _tag(field: Field) -> str:
    return f"{{{field.namespace}}}{field.name}" if field.namespace else field.name


def _qname_text(element: etree._Element, namespace: str | None, local: str) -> str:
    """`prefix:local` for a QName value, declaring the prefix on the root when needed."""
    if not namespace:
        return local
    for prefix, uri in element.nsmap.items():
        if uri == namespace and prefix:
            return f"{prefix}:{local}"
    return local  # not reached: every namespace a value names is declared on the root


def example_envelope(
    operation: Operation, direction: str = "input", prefixes: dict[str, str] | None = None
) -> bytes:
    """An example envelope for the operation's request (`input`) or response (`output`), in
    the binding's SOAP version. Raises ValueError for a direction the operation lacks."""
    message = operation.input if direction == "input" else operation.output
    if message is None:
        raise ValueError(f"operation {operation.name} has no {direction}")
    version = SOAP12 if operation.soap_version == "1.2" else SOAP11
    encoded = operation.use == "encoded"
    nsmap = _nsmap(message.headers + message.body, prefixes or {}, encoded)
    nsmap["soap"] = version.namespace
    root = etree.Element(f"{{{version.namespace}}}Envelope", nsmap=nsmap)
    builder = _Builder(encoded)
    if message.headers:
        header = etree.SubElement(root, f"{{{version.namespace}}}Header")
        for field in message.headers:
            builder.add(header, field, 0)
    body = etree.SubElement(root, f"{{{version.namespace}}}Body")
    for field in message.body:
        builder.add(body, field, 0)
    if encoded:
        for child in body:
            child.set(f"{{{version.namespace}}}encodingStyle", SOAP_ENC_NS)
    data: bytes = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="utf-8")
    return data


def _nsmap(fields: tuple[Field, ...], prefixes: dict[str, str], encoded: bool) -> dict[str, str]:
    namespaces: list[str] = []

    def walk(field: Field) -> None:
        if field.namespace and field.namespace not in namespaces:
            namespaces.append(field.namespace)
        for type_name in (field.type_name,) if encoded else ():
            namespace, _ = split_clark(type_name or "")
            if namespace and namespace not in namespaces:
                namespaces.append(namespace)
        for child in field.children:
            walk(child)

    for field in fields:
        walk(field)
    nsmap: dict[str, str] = {}
    if encoded:
        nsmap.update({"xsi": XSI_NS, "xsd": XSD_NS, "SOAP-ENC": SOAP_ENC_NS})
    used = set(nsmap) | {"soap"}
    for index, namespace in enumerate(namespaces):
        if namespace in nsmap.values():
            continue
        prefix = prefixes.get(namespace) or f"ns{index}"
        if prefix in used or not prefix.isidentifier():
            prefix = f"ns{index}"
        used.add(prefix)
        nsmap[prefix] = namespace
    return nsmap
