"""Reading WSDLs and XSDs: services, ports, bindings, operations, and element trees with facets.

Beside `turnout.soap`, not inside it (zeep keeps its `wsdl` and `xsd` layers apart the same
way): envelopes are runtime, read on every request; WSDLs are tooling, read by `turnout wsdl`,
the scaffold and tests. Every file is read through `turnout.soap`'s hardened parser.

zeep is not imported with this package: it loads the same files as a check only when a WSDL is
read (`read_wsdl`), or when `load_with_zeep` is first asked for.
"""

from typing import TYPE_CHECKING, Any

from ._example import example_envelope, example_value
from ._fetch import DocumentSet, WsdlError, fetch_documents
from ._model import (
    Binding,
    Document,
    Facets,
    FaultInfo,
    Field,
    Message,
    Operation,
    Port,
    Problem,
    Service,
    SimpleType,
    Wsdl,
)
from ._read import read_documents, read_wsdl
from ._validate import PayloadSchema, check_envelope, compile_schemas

if TYPE_CHECKING:
    from ._zeep import load_with_zeep


def __getattr__(name: str) -> Any:
    """`load_with_zeep` on first use, so importing this package does not import zeep."""
    if name == "load_with_zeep":
        from ._zeep import load_with_zeep

        return load_with_zeep
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Binding",
    "Document",
    "DocumentSet",
    "Facets",
    "FaultInfo",
    "Field",
    "Message",
    "Operation",
    "PayloadSchema",
    "Port",
    "Problem",
    "Service",
    "SimpleType",
    "Wsdl",
    "WsdlError",
    "check_envelope",
    "compile_schemas",
    "example_envelope",
    "example_value",
    "fetch_documents",
    "load_with_zeep",
    "read_documents",
    "read_wsdl",
]
