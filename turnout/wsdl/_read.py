"""The WSDL layer: services, ports, bindings and operations, read from the documents.

`read_wsdl(location)` is the entry point: it gathers the files (`_fetch`), builds the
schema index (`_schema`), reads every definition of every WSDL file (imports included),
and asks zeep to load the same files through a transport that serves only what was already
read (`_zeep`), so a WSDL that a zeep client would choke on says so. The only exception it
raises is `WsdlError`, when the WSDL itself cannot be read; everything else is a `Problem`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from lxml import etree

from ._fetch import DEFAULT_TIMEOUT, DocumentSet, Loaded, fetch_documents
from ._model import (
    HTTP_BINDING_NS,
    SOAP11_BINDING_NS,
    SOAP12_BINDING_NS,
    WSDL_NS,
    XSD_NS,
    Binding,
    BindingKind,
    Document,
    FaultInfo,
    Field,
    Message,
    Operation,
    Port,
    Problem,
    Service,
    Wsdl,
    clark,
    split_clark,
)
from ._schema import Schemas, documentation

_W = f"{{{WSDL_NS}}}"
_BINDING_KINDS: dict[str, BindingKind] = {
    SOAP11_BINDING_NS: "soap11", SOAP12_BINDING_NS: "soap12", HTTP_BINDING_NS: "http",
}


@dataclass
class _Definitions:
    """Every named definition of every WSDL file, by `{ns}local`, with its file."""

    messages: dict[str, tuple[etree._Element, Loaded]] = field(default_factory=dict)
    port_types: dict[str, tuple[etree._Element, Loaded]] = field(default_factory=dict)
    bindings: dict[str, tuple[etree._Element, Loaded]] = field(default_factory=dict)
    services: list[tuple[etree._Element, Loaded]] = field(default_factory=list)


def read_wsdl(
    location: str, *, allow_network: bool = False, timeout: float = DEFAULT_TIMEOUT,
    check_with_zeep: bool = True,
) -> Wsdl:
    """Read the WSDL at `location` (a path or URL). Raises `WsdlError` only when it cannot be
    read at all; anything sloppy inside is on `.problems`."""
    documents = fetch_documents(location, allow_network=allow_network, timeout=timeout)
    return read_documents(documents, check_with_zeep=check_with_zeep)


def read_documents(documents: DocumentSet, *, check_with_zeep: bool = True) -> Wsdl:
    problems = list(documents.problems)
    schemas = Schemas(documents, problems)
    reader = _Reader(documents, schemas, problems)
    wsdl = reader.read()
    if check_with_zeep:
        from ._zeep import zeep_problems

        problems.extend(zeep_problems(documents))
    return replace(wsdl, problems=tuple(problems))


class _Reader:
    def __init__(self, documents: DocumentSet, schemas: Schemas, problems: list[Problem]) -> None:
        self.documents = documents
        self.schemas = schemas
        self.problems = problems
        self.defs = _Definitions()
        for doc in documents.wsdl_documents():
            tns = doc.root.get("targetNamespace")
            for node in doc.root:
                if not isinstance(node.tag, str) or not node.tag.startswith(_W):
                    continue
                what = etree.QName(node).localname
                name = node.get("name")
                if what == "service":
                    self.defs.services.append((node, doc))
                elif name and what in ("message", "portType", "binding"):
                    table = {"message": self.defs.messages, "portType": self.defs.port_types,
                             "binding": self.defs.bindings}[what]
                    table.setdefault(clark(tns, name), (node, doc))

    def read(self) -> Wsdl:
        entry = self.documents.loaded[self.documents.entry]
        bindings = tuple(self._binding(name) for name in self.defs.bindings)
        services = tuple(self._service(node, doc) for node, doc in self.defs.services)
        documents = tuple(
            Document(doc.location, doc.kind, doc.root.get("targetNamespace"))
            for doc in self.documents.loaded.values()
        ) + tuple(
            Document(s.location, s.kind, s.namespace, s.reason)
            for s in self.documents.skipped.values()
        )
        if not self.defs.services:
            self.problem(entry, entry.root, "declares no wsdl:service, so no addresses")
        return Wsdl(
            location=self.documents.entry,
            name=entry.root.get("name"),
            target_namespace=entry.root.get("targetNamespace"),
            services=services,
            bindings=bindings,
            documents=documents,
            problems=(),
            prefixes=self._prefixes(),
        )

    def problem(self, doc: Loaded | str, node: etree._Element | None, message: str) -> None:
        self.schemas.problem(doc if isinstance(doc, str) else doc.location, node, message)

    def _prefixes(self) -> dict[str, str]:
        prefixes: dict[str, str] = {}
        for doc in self.documents.loaded.values():
            for element in doc.root.iter():
                if not isinstance(element.tag, str):
                    continue
                for prefix, namespace in element.nsmap.items():
                    if prefix and namespace not in prefixes and namespace != XSD_NS:
                        prefixes[namespace] = prefix
        return prefixes

    def _qname(self, node: etree._Element, attr: str, doc: Loaded) -> str | None:
        value = node.get(attr)
        if not value:
            return None
        return self.schemas.resolve(node, value, doc.location)

    def _find(
        self, table: dict[str, tuple[etree._Element, Loaded]], name: str
    ) -> tuple[etree._Element, Loaded] | None:
        if name in table:
            return table[name]
        local = split_clark(name)[1]
        matches = [value for key, value in table.items() if split_clark(key)[1] == local]
        return matches[0] if len(matches) == 1 else None

    # --- services -----------------------------------------------------------------------------

    def _service(self, node: etree._Element, doc: Loaded) -> Service:
        ports = []
        for port in node.iterchildren(f"{_W}port"):
            binding_name = self._qname(port, "binding", doc) or ""
            found = self._find(self.defs.bindings, binding_name) if binding_name else None
            kind: BindingKind = "other"
            if found is None:
                self.problem(doc, port, f"port {port.get('name')!r} names binding "
                             f"{port.get('binding')!r}, which is not defined")
            else:
                binding_name = clark(found[1].root.get("targetNamespace"),
                                     found[0].get("name", ""))
                kind = _binding_kind(found[0])
            address = None
            for child in port:
                if isinstance(child.tag, str) and etree.QName(child).localname == "address":
                    address = child.get("location")
            ports.append(Port(port.get("name", ""), binding_name, address, kind))
        return Service(node.get("name", ""), tuple(ports), _wsdl_doc(node))

    # --- bindings -----------------------------------------------------------------------------

    def _binding(self, name: str) -> Binding:
        node, doc = self.defs.bindings[name]
        kind = _binding_kind(node)
        port_type_name = self._qname(node, "type", doc)
        port_type = self._find(self.defs.port_types, port_type_name) if port_type_name else None
        if port_type is None:
            self.problem(doc, node, f"binding {node.get('name')!r} is for port type "
                         f"{node.get('type')!r}, which is not defined")
        style, transport, verb = "document", None, None
        for child in node:
            if not isinstance(child.tag, str):
                continue
            if etree.QName(child).localname == "binding":
                style = child.get("style") or "document"
                transport = child.get("transport")
                verb = child.get("verb")
        operations = []
        for op_node in node.iterchildren(f"{_W}operation"):
            operation = self._operation(name, kind, style, op_node, doc, port_type)
            if operation is not None:
                operations.append(operation)
        return Binding(name, kind, port_type_name, style if kind != "http" else None,
                       transport, verb, tuple(operations))

    def _operation(
        self, binding: str, kind: BindingKind, default_style: str, node: etree._Element,
        doc: Loaded, port_type: tuple[etree._Element, Loaded] | None,
    ) -> Operation | None:
        name = node.get("name", "")
        abstract = None
        if port_type is not None:
            for candidate in port_type[0].iterchildren(f"{_W}operation"):
                if candidate.get("name") == name:
                    abstract = candidate
                    break
        if abstract is None:
            if port_type is not None:
                self.problem(doc, node, f"binding operation {name!r} is not in port type "
                             f"{port_type[0].get('name')!r}; skipped")
            return None
        assert port_type is not None
        pt_doc = port_type[1]
        soap_action, style = None, default_style
        for child in node:
            if isinstance(child.tag, str) and etree.QName(child).localname == "operation":
                soap_action = child.get("soapAction")
                style = child.get("style") or default_style
        version = {"soap11": "1.1", "soap12": "1.2"}.get(kind)
        use, rpc_ns = "literal", None
        messages: dict[str, Message | None] = {"input": None, "output": None}
        for direction in ("input", "output"):
            abstract_io = abstract.find(f"{_W}{direction}")
            if abstract_io is None:
                continue
            concrete = node.find(f"{_W}{direction}")
            body_info = _soap_body(concrete)
            if body_info.get("use"):
                use = body_info["use"]
            if body_info.get("namespace"):
                rpc_ns = rpc_ns or body_info["namespace"]
            messages[direction] = self._message(
                name, direction, style if version else "http", abstract_io, concrete,
                body_info, pt_doc,
            )
        faults = []
        for fault in abstract.iterchildren(f"{_W}fault"):
            message_name = self._qname(fault, "message", pt_doc)
            detail: tuple[Field, ...] = ()
            if message_name:
                found = self._find(self.defs.messages, message_name)
                if found is None:
                    self.problem(pt_doc, fault, f"fault {fault.get('name')!r} names message "
                                 f"{fault.get('message')!r}, which is not defined")
                else:
                    detail = tuple(self._part(p, found[1], None, "document", None)
                                   for p in found[0].iterchildren(f"{_W}part"))
            faults.append(FaultInfo(fault.get("name", ""), detail, message_name))
        if kind in ("soap11", "soap12") and style == "rpc" and rpc_ns is None:
            self.problem(doc, node, f"rpc operation {name!r} has no soap:body namespace; its "
                         "wrapper element is read in the WSDL's target namespace")
        request = messages["input"]
        wrapped = False
        if style == "document" and request is not None and len(request.body) == 1:
            wrapped = request.body[0].name == name and request.body[0].kind == "element" and (
                not request.body[0].is_leaf
            )
        if style == "rpc" and kind in ("soap11", "soap12"):
            tns = doc.root.get("targetNamespace")
            for direction in ("input", "output"):
                message = messages[direction]
                if message is None:
                    continue
                wrapper_name = name if direction == "input" else f"{name}Response"
                wrapper = Field("element", wrapper_name, rpc_ns or tns, children=message.body)
                messages[direction] = replace(message, body=(wrapper,))
        return Operation(
            name=name, binding=binding, soap_version=version, style=style, use=use,
            soap_action=soap_action, input=messages["input"], output=messages["output"],
            faults=tuple(faults), wrapped=wrapped,
            rpc_namespace=rpc_ns if style == "rpc" else None,
            documentation=_wsdl_doc(abstract) or _wsdl_doc(node),
        )

    def _message(
        self, operation: str, direction: str, style: str, abstract_io: etree._Element,
        concrete: etree._Element | None, body_info: dict[str, str], doc: Loaded,
    ) -> Message:
        message_name = self._qname(abstract_io, "message", doc)
        found = self._find(self.defs.messages, message_name) if message_name else None
        if found is None:
            self.problem(doc, abstract_io, f"operation {operation!r}: {direction} message "
                         f"{abstract_io.get('message')!r} is not defined; shown empty")
            return Message(message=message_name)
        message, message_doc = found
        parts = {p.get("name", ""): p for p in message.iterchildren(f"{_W}part")}
        headers: list[Field] = []
        header_parts: set[str] = set()
        for header in _soap_headers(concrete):
            header_message = self._qname(header, "message", doc)
            header_found = self._find(self.defs.messages, header_message) if header_message else None
            part_name = header.get("part", "")
            part_node = None
            if header_found is not None:
                part_node = next((p for p in header_found[0].iterchildren(f"{_W}part")
                                  if p.get("name") == part_name), None)
            if part_node is None or header_found is None:
                self.problem(doc, header, f"operation {operation!r}: soap:header names part "
                             f"{part_name!r} of {header.get('message')!r}, which is not defined")
                continue
            if header_found[0] is message:
                header_parts.add(part_name)
            headers.append(self._part(part_node, header_found[1], None, "document", None))
        chosen = body_info.get("parts")
        names = chosen.split() if chosen is not None else list(parts)
        body = []
        for part_name in names:
            if part_name in header_parts and chosen is None:
                continue
            part = parts.get(part_name)
            if part is None:
                self.problem(doc, abstract_io, f"operation {operation!r}: soap:body names part "
                             f"{part_name!r}, which message {message.get('name')!r} lacks")
                continue
            body.append(self._part(part, message_doc, operation, style, direction))
        return Message(tuple(body), tuple(headers), message_name, tuple(names))

    def _part(
        self, part: etree._Element, doc: Loaded, operation: str | None, style: str,
        direction: str | None,
    ) -> Field:
        """A message part as it appears on the wire: its element, or (rpc, or document style
        with type=) an element named after the part, unqualified, of its type."""
        name = part.get("name", "")
        element = self._qname(part, "element", doc)
        if element:
            return self.schemas.global_element(element, doc.location, part)
        type_name = self._qname(part, "type", doc)
        if not type_name:
            self.problem(doc, part, f"message part {name!r} has neither element nor type")
            return Field("element", name, None, unresolved=True)
        if style == "document" and operation is not None:
            self.problem(doc, part, f"part {name!r} of a document-style operation uses type=, "
                         "not element= (not WS-I); read as an unqualified element of that type")
        return self.schemas.typed_element(name, None, type_name, doc.location, part)


def _binding_kind(node: etree._Element) -> BindingKind:
    for child in node:
        if isinstance(child.tag, str) and etree.QName(child).localname == "binding":
            return _BINDING_KINDS.get(etree.QName(child).namespace or "", "other")
    return "other"


def _soap_body(concrete: etree._Element | None) -> dict[str, str]:
    """use, namespace, parts of the soap:body (or soap12:body), wherever it is nested (MIME)."""
    if concrete is None:
        return {}
    for node in concrete.iter():
        if not isinstance(node.tag, str):
            continue
        name = etree.QName(node)
        if name.localname == "body" and name.namespace in (SOAP11_BINDING_NS, SOAP12_BINDING_NS):
            return {key: value for key, value in node.attrib.items() if isinstance(key, str)}
    return {}


def _soap_headers(concrete: etree._Element | None) -> list[etree._Element]:
    if concrete is None:
        return []
    return [
        node for node in concrete.iter()
        if isinstance(node.tag, str) and etree.QName(node).localname == "header"
        and etree.QName(node).namespace in (SOAP11_BINDING_NS, SOAP12_BINDING_NS)
    ]


def _wsdl_doc(node: etree._Element) -> str | None:
    found = node.find(f"{_W}documentation")
    if found is None:
        return documentation(node)
    text = " ".join("".join(found.itertext()).split())
    return text[:400] or None
