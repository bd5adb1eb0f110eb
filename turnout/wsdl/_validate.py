"""Validating SOAP payloads against a WSDL's schemas with lxml, offline.

The schemas of a WSDL are scattered: inline in `wsdl:types` (borrowing prefixes declared on
`wsdl:definitions`), in imported files, importing each other by namespace only. lxml wants one
schema, so each `xs:schema` becomes a standalone document (with every prefix in scope), each
namespace gets an aggregating document that includes its parts, every import points at the
aggregate of its namespace, and a root schema imports them all. Documents are served to lxml by
a resolver from memory: nothing is read from disk or network while compiling.

Parts that are not global elements (rpc parts, `type=` parts) are checked with `xsi:type` on a
probe element of `anyType`, which makes the validator apply the named type to its content.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from lxml import etree

from ..soap import make_parser
from ._fetch import DocumentSet, absolute
from ._model import OLD_XSD_NS, XSD_NS, XSI_NS, Field, Operation, split_clark
from ._schema import xs_name

_PREFIX = "turnout-schema:"
_PROBE = "probe"


class _MemoryResolver(etree.Resolver):
    def __init__(self, documents: dict[str, bytes]) -> None:
        super().__init__()
        self.documents = documents

    def resolve(self, url: str, pubid: str | None, context: object) -> object:
        data = self.documents.get(url)
        if data is None:  # anything else: an empty schema, never a file or a URL
            data = f'<xs:schema xmlns:xs="{XSD_NS}"/>'.encode()
        return self.resolve_string(data, context)


@dataclass
class PayloadSchema:
    """The compiled schemas of a WSDL; `check(element, field)` lists what is wrong."""

    schema: etree.XMLSchema

    def check(self, element: etree._Element, field: Field) -> list[str]:
        """Validate one Body or Header child (`element`), built for `field`."""
        if field.encoded_array:
            # A restriction of SOAP-ENC:Array declares empty content to a strict validator;
            # encoded clients (and the SOAP 1.1 note) read it as "items of the array type".
            items = field.elements()
            return [problem for child in element if items
                    for problem in self.check(child, items[0])]
        if field.namespace is not None or field.type_name is None:  # a global element
            candidate = _standalone(element)
        else:
            candidate = _probe(element, field)
        if self.schema.validate(candidate):
            return []
        return [f"{error.message}" for error in self.schema.error_log]


def compile_schemas(documents: DocumentSet) -> PayloadSchema:
    """The WSDL's schemas as one lxml schema. Raises ValueError with lxml's reason."""
    served: dict[str, bytes] = {}
    url_of: dict[int, str] = {}
    by_namespace: dict[str | None, list[str]] = defaultdict(list)
    included: set[str] = set()
    schemas = documents.schema_elements()
    for index, (_, schema) in enumerate(schemas):
        url_of[id(schema)] = f"{_PREFIX}{index}.xsd"
    location_of = {doc.location: url_of[id(schema)] for doc, schema in schemas
                   if schema is doc.root}
    provided = {schema.get("targetNamespace") or doc.included_by for doc, schema in schemas}
    for doc, schema in schemas:
        url = url_of[id(schema)]
        copy = _standalone(schema)
        for node in list(copy):
            what = xs_name(node)
            if what in ("include", "redefine", "override"):
                target = location_of.get(absolute(node.get("schemaLocation", ""), doc.location))
                if target is None:
                    copy.remove(node)
                else:
                    node.set("schemaLocation", target)
                    included.add(target)
            elif what == "import":
                if node.get("namespace") in provided:
                    node.set("schemaLocation", _aggregate_url(node.get("namespace")))
                elif node.get("schemaLocation") is not None:
                    del node.attrib["schemaLocation"]
        tns = schema.get("targetNamespace") or doc.included_by
        by_namespace[tns].append(url)
        served[url] = etree.tostring(copy)
    root = etree.Element(f"{{{XSD_NS}}}schema", nsmap={"xs": XSD_NS})
    for namespace, urls in by_namespace.items():
        aggregate = etree.Element(f"{{{XSD_NS}}}schema", nsmap={"xs": XSD_NS})
        if namespace:
            aggregate.set("targetNamespace", namespace)
        for url in urls:
            if url not in included:
                etree.SubElement(aggregate, f"{{{XSD_NS}}}include", schemaLocation=url)
        served[_aggregate_url(namespace)] = etree.tostring(aggregate)
        if namespace:
            etree.SubElement(root, f"{{{XSD_NS}}}import", namespace=namespace,
                             schemaLocation=_aggregate_url(namespace))
        else:
            etree.SubElement(root, f"{{{XSD_NS}}}include",
                             schemaLocation=_aggregate_url(None))
    etree.SubElement(root, f"{{{XSD_NS}}}element", name=_PROBE)
    parser = make_parser()
    parser.resolvers.add(_MemoryResolver(served))
    tree = etree.fromstring(etree.tostring(root), parser, base_url=f"{_PREFIX}root.xsd")
    try:
        return PayloadSchema(etree.XMLSchema(tree))
    except etree.XMLSchemaParseError as exc:
        raise ValueError(str(exc)) from None


def _aggregate_url(namespace: str | None) -> str:
    from urllib.parse import quote

    return f"{_PREFIX}ns/{quote(namespace or '', safe='')}.xsd"


def _standalone(element: etree._Element) -> etree._Element:
    """A copy of `element` as a document root, declaring every prefix in scope on it (QName
    values such as `type="tns:X"` need them), with old schema namespaces read as XSD."""
    nsmap = {prefix: (XSD_NS if uri in OLD_XSD_NS else uri) for prefix, uri in
             element.nsmap.items()}
    text = etree.tostring(element)
    parser = make_parser()
    copy = etree.fromstring(text, parser)
    root = etree.Element(copy.tag, attrib=dict(copy.attrib), nsmap=nsmap)
    root.text = copy.text
    for child in copy:
        root.append(child)
    return root


def _probe(element: etree._Element, field: Field) -> etree._Element:
    """`<probe xsi:type="T">` with the element's content, checked against type T."""
    nsmap = {"xsi": XSI_NS, "xs": XSD_NS}
    for prefix, uri in element.nsmap.items():
        if prefix and prefix not in nsmap:
            nsmap[prefix] = uri
    probe = etree.Element(_PROBE, nsmap=nsmap)
    if field.type_name:
        namespace, local = split_clark(field.type_name)
        prefix = next((p for p, u in nsmap.items() if u == namespace), None)
        if prefix is None and namespace:
            prefix = "t0"
            probe = etree.Element(_PROBE, nsmap={**nsmap, prefix: namespace})
        probe.set(f"{{{XSI_NS}}}type", f"{prefix}:{local}" if prefix else local)
    probe.text = element.text
    for name, value in element.attrib.items():
        if not str(name).startswith(f"{{{XSI_NS}}}"):
            probe.set(name, value)
    for child in element:
        probe.append(_copy(child))
    return probe


def _copy(element: etree._Element) -> etree._Element:
    parser = make_parser()
    return etree.fromstring(etree.tostring(element), parser)


def check_envelope(
    schema: PayloadSchema, operation: Operation, direction: str, envelope: bytes
) -> list[str]:
    """What is invalid in the Header and Body content of `envelope` (an example or a recorded
    message) against the schema, element by element. Empty when all is valid."""
    from ..soap import parse_xml
    from ._fetch import WSDL_LIMITS

    message = operation.input if direction == "input" else operation.output
    if message is None:
        return [f"operation {operation.name} has no {direction}"]
    root = parse_xml(envelope, WSDL_LIMITS)
    problems = []
    for section, fields in (("Header", message.headers), ("Body", message.body)):
        container = next((c for c in root if etree.QName(c).localname == section), None)
        elements = list(container) if container is not None else []
        if operation.style == "rpc" and section == "Body" and elements:
            elements, fields = list(elements[0]), message.body[0].elements()
        for element in elements:
            field = next((f for f in fields if f.kind == "element" and f.name ==
                          etree.QName(element).localname), None)
            if field is None:
                continue
            for problem in schema.check(element, field):
                problems.append(f"{section}/{etree.QName(element).localname}: {problem}")
    return problems
