"""The proposal for one operation's JSON facade, shared by the mapping file and the OpenAPI.

A `Plan` pairs every field of the request and response element trees with a proposed JSON name
(camelCase, unique among siblings), a prefixed element name and XPath for the mapping file, a
value map for enumerations and a date format where the type's documentation spells one. The
mapping scaffold (`_mapping_text`) and the OpenAPI document (`_openapi`) both read plans, so
the contract the modern team builds against is the one the translator will call.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..soap import translator_name
from ..wsdl import Binding, FaultInfo, Field, Operation, Port, Wsdl
from ._names import (
    camel,
    date_format,
    kebab,
    looks_like_read,
    looks_like_write,
    service_name,
    snake,
    unique,
)

XSD = "http://www.w3.org/2001/XMLSchema"
_PREFIX = re.compile(r"[A-Za-z_][\w.-]*")
#: the prefix a mapping file uses for elements in no namespace (rpc parts)
NO_NAMESPACE = "nons"
INTEGER_TYPES = frozenset("""integer long int short byte nonNegativeInteger positiveInteger
    unsignedLong unsignedInt unsignedShort unsignedByte nonPositiveInteger negativeInteger""".split())
NUMBER_TYPES = frozenset({"decimal", "float", "double"})


@dataclass
class Slot:
    """One field of the proposed JSON, and the XML node it comes from or goes to."""

    field: Field
    json: str
    tag: str  # `pnc:registrationMark` (elements); `@name` for attributes
    xpath: str  # one step, relative to the parent: `pnc:registrationMark`, `@id`
    kind: str  # "leaf", "complex", "attribute", "any", "unresolved", "recursive"
    optional: bool
    repeated: bool
    # dataclasses.field spelled out: this class's own `field` attribute shadows the name here
    children: list[Slot] = dataclasses.field(default_factory=list)
    value_map: str | None = None
    date: str | None = None  # the legacy text's strftime format
    utc: bool = False
    choice: str | None = None  # "one of a, b" when it is an option of a choice

    @property
    def builtin(self) -> str | None:
        return self.field.simple.builtin if self.field.simple else None

    @property
    def wrapped(self) -> Slot | None:
        """The item of an array wrapper (spyne's `stringArray`, .NET's `ArrayOfX`): this is
        one element, not repeated, whose only content is one repeated element; else None. A
        scaffold maps the wrapper to a plain JSON array of its items (`items:`)."""
        if self.kind != "complex" or self.repeated or self.field.simple is not None:
            return None
        if len(self.children) != 1:
            return None
        item = self.children[0]
        if not item.repeated or item.kind not in ("leaf", "complex") or item.choice:
            return None
        return item

    @property
    def json_type(self) -> str:
        builtin = self.builtin
        if builtin in INTEGER_TYPES:
            return "integer"
        if builtin in NUMBER_TYPES:
            return "number"
        if builtin == "boolean":
            return "boolean"
        return "string"


@dataclass(frozen=True)
class Offer:
    """The same operation offered at another key: the SOAP 1.2 port of a SOAP 1.1 one (or the
    other way round) at another path, with the same messages. One mapping serves both."""

    key: str
    port: Port
    binding: Binding
    operation: Operation


@dataclass
class Plan:
    operation: Operation
    binding: Binding
    port: Port
    wsdl: Wsdl
    key: str  # `/pnc VehicleEnquiry`
    service: str  # `pnc`
    name: str  # `pnc/VehicleEnquiry`, `merlin/MerlinService/GetMissingPerson`: translator_name
    stem: str  # `pnc/vehicle_enquiry`
    method: str
    path: str
    writes: bool
    namespaces: dict[str, str]  # prefix -> namespace
    request_element: Field
    request: list[Slot]
    response_element: Field | None
    response: list[Slot]
    response_headers: list[Slot]
    request_headers: list[Slot]
    faults: list[tuple[FaultInfo, list[Slot]]]
    value_maps: dict[str, tuple[str, ...]]
    flat_request: bool
    #: the same operation at other keys (other SOAP versions' ports), served by this mapping
    also: list[Offer] = dataclasses.field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        """Every route-table key the mapping serves, its own first."""
        return [self.key] + [offer.key for offer in self.also]

    @property
    def operation_name(self) -> str:
        return self.key.split(" ", 1)[1]

    def prefix(self, namespace: str | None) -> str:
        for prefix, uri in self.namespaces.items():
            if uri == (namespace or ""):
                return prefix
        raise KeyError(namespace)


class _Planner:
    def __init__(self, wsdl: Wsdl, service: str, main_namespace: str | None) -> None:
        self.wsdl = wsdl
        self.namespaces: dict[str, str] = {}
        self.value_maps: dict[str, tuple[str, ...]] = {}
        if main_namespace and _PREFIX.fullmatch(service):
            self.namespaces[service] = main_namespace

    def prefix(self, namespace: str | None) -> str:
        wanted = namespace or ""
        for prefix, uri in self.namespaces.items():
            if uri == wanted:
                return prefix
        if not wanted:
            self.namespaces[NO_NAMESPACE] = ""
            return NO_NAMESPACE
        proposal = self.wsdl.prefixes.get(wanted, "")
        if not _PREFIX.fullmatch(proposal) or proposal in ("tns", "xs", "xsd", NO_NAMESPACE) or (
            proposal in self.namespaces
        ):
            proposal = f"ns{len(self.namespaces) + 1}"
        while proposal in self.namespaces:
            proposal += "_"
        self.namespaces[proposal] = wanted
        return proposal

    def slots(self, fields: tuple[Field, ...], optional: bool = False) -> list[Slot]:
        taken: set[str] = set()
        return [slot for f in fields for slot in self._slots(f, taken, optional, None)]

    def _slots(
        self, f: Field, taken: set[str], optional: bool, choice: str | None
    ) -> list[Slot]:
        if f.kind in ("choice", "sequence"):
            in_choice = f.kind == "choice"
            names = ", ".join(o.name or o.kind for o in f.children)
            label = f"one of {names}" if in_choice else choice
            found = []
            for child in f.children:
                found.extend(self._slots(child, taken, optional or in_choice or f.optional,
                                         label))
            return found
        if f.kind == "any":
            return [Slot(f, unique("any", taken), "", "", "any", True, f.repeated)]
        if f.kind == "attribute":
            json = unique(camel(f.name), taken)
            slot = Slot(f, json, f"@{f.name}", f"@{self._attribute_name(f)}", "attribute",
                        optional or f.optional, False)
            self._simple(slot)
            return [slot]
        tag = f"{self.prefix(f.namespace)}:{f.name}"
        step = tag if f.namespace else f.name
        json = unique(camel(f.name), taken)
        if f.unresolved or f.recursive:
            kind = "unresolved" if f.unresolved else "recursive"
            return [Slot(f, json, tag, step, kind, optional or f.optional, f.repeated,
                         choice=choice)]
        slot = Slot(f, json, tag, step, "leaf" if not f.children else "complex",
                    optional or f.optional, f.repeated, choice=choice)
        if f.children:
            slot.children = self.slots(f.children)
            if f.simple is not None:  # simple content with attributes: the text is a value
                text = Slot(f, unique("value", {c.json for c in slot.children}), "", ".",
                            "leaf", False, False)
                self._simple(text)
                slot.children.insert(0, text)
        else:
            self._simple(slot)
        return [slot]

    def _attribute_name(self, f: Field) -> str:
        return f"{self.prefix(f.namespace)}:{f.name}" if f.namespace else f.name

    def _simple(self, slot: Slot) -> None:
        simple = slot.field.simple
        if simple is None:
            return
        if simple.facets.enumeration and not simple.is_list:
            base = simple.name.rpartition("}")[2] if simple.name else slot.field.name
            name = camel(base)
            codes = simple.facets.enumeration
            if self.value_maps.get(name, codes) != codes:
                name = unique(name, set(self.value_maps))
            self.value_maps[name] = codes
            slot.value_map = name
        if simple.builtin in ("string", "token", "normalizedString"):
            slot.date = date_format(simple.documentation or slot.field.documentation)
            doc = (simple.documentation or "") + (slot.field.documentation or "")
            slot.utc = slot.date is not None and "UTC" in doc


def plans_for(
    wsdl: Wsdl, operations: tuple[str, ...] = (), *, known: Mapping[str, str] | None = None,
) -> tuple[list[Plan], list[str]]:
    """One plan per operation key offered by a SOAP port (the first port to offer a key wins),
    restricted to `operations` (names or keys) when given; and notes on what was left out.

    `known` maps operation keys already scaffolded into the directory (by any WSDL) to their
    file stems (`pnc/vehicle_enquiry`): a known key keeps its stem, a new one avoids them all,
    so a second WSDL never takes over the first one's files."""
    plans: list[Plan] = []
    notes: list[str] = []
    seen: dict[str, str] = {}
    names: set[str] = set()
    known = dict(known or {})
    stems: set[str] = set(known.values())
    for service in wsdl.services:
        #: (port type, SOAP version, operation name) -> its plan, within this service
        offered: dict[tuple[str | None, str | None, str], Plan] = {}
        for port in service.ports:
            binding = wsdl.binding(port.binding)
            if binding is None:
                continue
            if binding.soap_version is None:
                notes.append(f"port {service.name}/{port.name} is {binding.describe()}, not "
                             "SOAP: not scaffolded")
                continue
            for operation in binding.operations:
                request = operation.request_element
                if request is None:
                    notes.append(f"{operation.name}: the request has no body element; skipped")
                    continue
                key = f"{port.service_path or '/'} {request.name}"
                if operations and not {operation.name, key, request.name} & set(operations):
                    continue
                if key in seen:
                    if seen[key] != binding.name:
                        notes.append(f"{key}: also offered by {wsdl.short(binding.name)} "
                                     f"({binding.describe()}); scaffolded once, from "
                                     f"{wsdl.short(seen[key])}")
                    continue
                seen[key] = binding.name
                twin = _twin(offered, binding, operation)
                if twin is not None:
                    twin.also.append(Offer(key, port, binding, operation))
                    notes.append(f"{key}: the {binding.describe()} port of {twin.key} "
                                 f"({twin.binding.describe()}); one mapping serves both")
                    continue
                plan = _plan(wsdl, binding, port, service.name, operation, key, names, stems,
                             known.get(key))
                offered[(binding.port_type, binding.soap_version, operation.name)] = plan
                plans.append(plan)
    if operations:
        found = {p.operation.name for p in plans} | {k for p in plans for k in p.keys} | {
            p.operation_name for p in plans}
        for wanted in operations:
            if wanted not in found:
                notes.append(f"no SOAP operation named {wanted!r} in this WSDL")
    return plans, notes


def _twin(
    offered: dict[tuple[str | None, str | None, str], Plan], binding: Binding,
    operation: Operation,
) -> Plan | None:
    """The plan of the same operation through the other SOAP version's port of this service,
    when its messages are the same (headers are declared per binding, so they may differ)."""
    other = {"1.1": "1.2", "1.2": "1.1"}.get(binding.soap_version or "")
    if binding.port_type is None or other is None:
        return None
    plan = offered.get((binding.port_type, other, operation.name))
    if plan is None or any(o.binding.soap_version == binding.soap_version for o in plan.also):
        return None
    mine, theirs = operation, plan.operation
    if (mine.input, mine.output, mine.faults, mine.style, mine.use) != (
        theirs.input, theirs.output, theirs.faults, theirs.style, theirs.use
    ):
        return None
    return plan


def _plan(
    wsdl: Wsdl, binding: Binding, port: Port, service_label: str, operation: Operation,
    key: str, names: set[str], stems: set[str], stem: str | None = None,
) -> Plan:
    request = operation.request_element
    assert request is not None
    service = service_name(port.service_path, service_label)
    planner = _Planner(wsdl, service, request.namespace)
    path, op_name = key.split(" ", 1)
    # the name the route table looks for unless a route names another (keys are unique, so
    # names are too); files are named by the last path segment, made unique among themselves
    name = translator_name(path, op_name)
    names.add(name)
    stem = stem or unique(f"{service}/{snake(op_name)}", stems)
    request_slots = planner.slots(request.children) if request.children else planner.slots(
        (request,))
    assert operation.input is not None
    request_headers = planner.slots(operation.input.headers)
    response_element = None
    response: list[Slot] = []
    response_headers: list[Slot] = []
    if operation.output is not None:
        body = operation.output.body
        if len(body) == 1 and body[0].kind == "element":
            response_element = body[0]
            response = planner.slots((response_element,))
        else:
            response = planner.slots(body)
        response_headers = planner.slots(operation.output.headers)
    value_maps = dict(planner.value_maps)  # fault details write literal codes: no maps for them
    faults = [(fault, planner.slots(fault.detail)) for fault in operation.faults]
    flat = all(s.kind in ("leaf", "attribute") for s in request_slots)
    method = "GET" if looks_like_read(operation.name) and flat else "POST"
    writes = looks_like_write(operation.name) and method == "POST"
    # the request's own namespace first, then the rest in the order met
    return Plan(
        operation=operation, binding=binding, port=port, wsdl=wsdl, key=key, service=service,
        name=name, stem=stem, method=method, path=f"/{kebab(op_name)}", writes=writes,
        namespaces=dict(planner.namespaces), request_element=request, request=request_slots,
        response_element=response_element, response=response,
        response_headers=response_headers, request_headers=request_headers, faults=faults,
        value_maps=value_maps, flat_request=flat,
    )


def describe(slot: Slot, wsdl: Wsdl) -> str:
    """`tns:Text35 (string, length 1..35) 1..1` — what a comment says about a field."""
    f = slot.field
    bits = []
    if f.type_name:
        bits.append(wsdl.short(f.type_name))
    if f.simple is not None:
        detail = f.simple.builtin + (" list" if f.simple.is_list else "")
        facets = f.simple.facets.describe()
        if facets:
            detail += f", {facets}"
        if f.type_name is None or not f.type_name.endswith("}" + f.simple.builtin):
            bits.append(f"({detail})")
    bits.append(f.occurs() if f.kind != "attribute" else ("required" if f.min_occurs else
                                                          "optional"))
    if slot.choice:
        bits.append(f"[{slot.choice}]")
    if f.nillable:
        bits.append("nillable")
    return " ".join(bits)
