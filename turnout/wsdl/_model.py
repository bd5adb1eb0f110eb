"""What a WSDL says, as plain data: services, ports, bindings, operations and element trees.

`read_wsdl` (in `_read`) builds these; `turnout wsdl inspect` prints them and the
scaffolding in `turnout.scaffold` turns them into mapping files, examples and OpenAPI. They
are frozen dataclasses of strings, numbers and tuples, so `as_data()` is the `--json` form.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

XSD_NS = "http://www.w3.org/2001/XMLSchema"
#: older drafts of the schema namespace, still found in the wild; read as XSD_NS
OLD_XSD_NS = ("http://www.w3.org/1999/XMLSchema", "http://www.w3.org/2000/10/XMLSchema")
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL20_NS = "http://www.w3.org/ns/wsdl"
SOAP11_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"
HTTP_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/http/"
SOAP_ENC_NS = "http://schemas.xmlsoap.org/soap/encoding/"
XML_NS = "http://www.w3.org/XML/1998/namespace"

Kind = Literal["element", "attribute", "any", "choice", "sequence"]
BindingKind = Literal["soap11", "soap12", "http", "other"]


def clark(namespace: str | None, local: str) -> str:
    """`{namespace}local`, or `local` for no namespace: how names are kept in the model."""
    return f"{{{namespace}}}{local}" if namespace else local


def split_clark(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return None, name


@dataclass(frozen=True)
class Problem:
    """Something in the WSDL a person would shrug at, or want to know: where and what."""

    file: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Facets:
    """The restrictions of a simple type, merged down its derivation chain."""

    enumeration: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    length: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_inclusive: str | None = None
    max_inclusive: str | None = None
    min_exclusive: str | None = None
    max_exclusive: str | None = None
    total_digits: int | None = None
    fraction_digits: int | None = None

    def describe(self) -> str:
        """`length 1..35, pattern [A-Z]{3}` — the facets in a line, for people."""
        bits = []
        low = self.length if self.length is not None else self.min_length
        high = self.length if self.length is not None else self.max_length
        if low is not None or high is not None:
            bits.append(f"length {low or 0}..{high if high is not None else '*'}")
        for label, value in (
            (">=", self.min_inclusive), ("<=", self.max_inclusive),
            (">", self.min_exclusive), ("<", self.max_exclusive),
        ):
            if value is not None:
                bits.append(f"{label} {value}")
        if self.total_digits is not None:
            bits.append(f"{self.total_digits} digits")
        if self.fraction_digits is not None:
            bits.append(f"{self.fraction_digits} decimals")
        bits.extend(f"pattern {pattern}" for pattern in self.patterns)
        if self.enumeration:
            bits.append("one of " + " ".join(self.enumeration))
        return ", ".join(bits)


@dataclass(frozen=True)
class SimpleType:
    """A simple type: the XSD built-in it comes down to, and the facets on the way."""

    builtin: str  # local name of the XSD built-in at the root: "string", "int", "date", ...
    name: str | None = None  # the named type, `{ns}local`, when it has one
    facets: Facets = field(default_factory=Facets)
    is_list: bool = False  # xs:list: whitespace-separated items of `builtin`
    documentation: str | None = None


@dataclass(frozen=True)
class Field:
    """One node of an element tree.

    `element`: an XML element (a leaf when `simple` is set and `children` is empty); `attribute`;
    `any`: an xs:any wildcard; `choice`: exactly one of `children` (a substitution group is a
    choice of its head and members); `sequence`: several elements together, inside a choice.
    """

    kind: Kind
    name: str = ""  # local name
    namespace: str | None = None  # None: unqualified
    type_name: str | None = None  # `{ns}local` of the declared type, when named
    simple: SimpleType | None = None  # leaves and simple content
    children: tuple[Field, ...] = ()
    min_occurs: int = 1
    max_occurs: int | None = 1  # None: unbounded
    nillable: bool = False
    default: str | None = None
    fixed: str | None = None
    documentation: str | None = None
    #: the type is already being expanded above this node: not expanded again
    recursive: bool = False
    #: the type could not be found (a warning says which); read as any content
    unresolved: bool = False
    #: xs:any: the namespace constraint and processContents
    wildcard: str | None = None
    process_contents: str | None = None
    #: an abstract element: never appears itself, only its substitution group members
    abstract: bool = False
    #: a SOAP-encoded array (SOAP-ENC:Array): its items are `children`
    encoded_array: bool = False

    @property
    def qname(self) -> str:
        return clark(self.namespace, self.name)

    @property
    def repeated(self) -> bool:
        return self.max_occurs is None or self.max_occurs > 1

    @property
    def optional(self) -> bool:
        return self.min_occurs == 0

    @property
    def is_leaf(self) -> bool:
        return self.kind == "element" and not self.children and not self.unresolved and (
            self.simple is not None
        )

    def occurs(self) -> str:
        high = "*" if self.max_occurs is None else str(self.max_occurs)
        return f"{self.min_occurs}..{high}"

    def elements(self) -> tuple[Field, ...]:
        return tuple(child for child in self.children if child.kind != "attribute")

    def attributes(self) -> tuple[Field, ...]:
        return tuple(child for child in self.children if child.kind == "attribute")


@dataclass(frozen=True)
class Message:
    """One direction of an operation on the wire: the SOAP Header and Body content."""

    body: tuple[Field, ...] = ()
    headers: tuple[Field, ...] = ()
    message: str | None = None  # the wsdl:message, `{ns}local`
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class FaultInfo:
    name: str
    detail: tuple[Field, ...] = ()
    message: str | None = None


@dataclass(frozen=True)
class Operation:
    """An operation as one binding offers it."""

    name: str
    binding: str  # `{ns}local`
    soap_version: str | None  # "1.1", "1.2", or None for an HTTP binding
    style: str  # "document" or "rpc"
    use: str  # "literal" or "encoded"
    soap_action: str | None = None
    input: Message | None = None
    output: Message | None = None
    faults: tuple[FaultInfo, ...] = ()
    #: document/literal with one part element named after the operation
    wrapped: bool = False
    rpc_namespace: str | None = None
    documentation: str | None = None

    @property
    def one_way(self) -> bool:
        return self.output is None

    @property
    def request_element(self) -> Field | None:
        """The first element of the request's SOAP Body: what names the operation on the wire."""
        if self.input is None:
            return None
        for field_ in self.input.body:
            if field_.kind == "element":
                return field_
        return None

    def describe(self) -> str:
        """`document/literal, wrapped` and the like."""
        if self.soap_version is None:
            return "HTTP"
        text = f"{self.style}/{self.use}"
        if self.style == "document":
            text += ", wrapped" if self.wrapped else ", bare"
        return text


@dataclass(frozen=True)
class Binding:
    name: str  # `{ns}local`
    kind: BindingKind
    port_type: str | None
    style: str | None = None
    transport: str | None = None
    verb: str | None = None  # HTTP bindings
    operations: tuple[Operation, ...] = ()

    @property
    def soap_version(self) -> str | None:
        return {"soap11": "1.1", "soap12": "1.2"}.get(self.kind)

    def describe(self) -> str:
        if self.kind == "http":
            return f"HTTP {self.verb or ''}".strip()
        if self.kind == "other":
            return "not SOAP"
        return f"SOAP {self.soap_version}"


@dataclass(frozen=True)
class Port:
    name: str
    binding: str  # `{ns}local`
    address: str | None
    kind: BindingKind

    @property
    def service_path(self) -> str | None:
        """The path part of the address, as Turnout's operation keys use it (`/pnc`)."""
        from urllib.parse import urlsplit

        if not self.address:
            return None
        path = urlsplit(self.address).path.rstrip("/")
        if path and not path.startswith("/"):  # a relative address, as some test WSDLs have
            path = "/" + path
        return path or "/"


@dataclass(frozen=True)
class Service:
    name: str
    ports: tuple[Port, ...] = ()
    documentation: str | None = None


@dataclass(frozen=True)
class Document:
    """One file the WSDL is made of, and what became of it."""

    location: str
    kind: str  # "wsdl", "schema", "bundled", "not fetched", "unreadable"
    namespace: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Wsdl:
    """Everything `turnout wsdl inspect` shows. `problems` are warnings, never fatal."""

    location: str
    name: str | None
    target_namespace: str | None
    services: tuple[Service, ...]
    bindings: tuple[Binding, ...]
    documents: tuple[Document, ...]
    problems: tuple[Problem, ...]
    #: namespace -> the prefix the WSDL itself uses for it, for display
    prefixes: dict[str, str] = field(default_factory=dict)

    def binding(self, name: str) -> Binding | None:
        for binding in self.bindings:
            if binding.name == name:
                return binding
        return None

    def short(self, name: str | None) -> str:
        """`{urn:police:pnc:v1}Text35` as `tns:Text35`, with the WSDL's own prefixes."""
        if name is None:
            return ""
        namespace, local = split_clark(name)
        if namespace is None:
            return local
        if namespace == XSD_NS:
            return f"xs:{local}"
        prefix = self.prefixes.get(namespace)
        return f"{prefix}:{local}" if prefix else name

    def as_data(self) -> dict[str, Any]:
        """Plain data (for `--json`): every field, with problems as `file:line: message` too."""
        data = asdict(self)
        data["problems"] = [
            {"file": p.file, "line": p.line, "message": p.message, "text": str(p)}
            for p in self.problems
        ]
        return data
