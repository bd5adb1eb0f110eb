"""The bus's WSDL and XSD documents: packaged files, and the WSDL as served over HTTP.

The packaged WSDL names `http://localhost:8080/<service>` and imports its XSD by a bare file
name, so it also loads from disk. Served over HTTP, both are rewritten to absolute URLs under the
base URL the request came in on, so a client that fetched the WSDL through a proxy keeps talking
through that proxy.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from lxml import etree

from ...soap import parse_xml
from ._service import BusService

_WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
_XSD_NS = "http://www.w3.org/2001/XMLSchema"
_ADDRESS_NAMESPACES = (
    "http://schemas.xmlsoap.org/wsdl/soap/",
    "http://schemas.xmlsoap.org/wsdl/soap12/",
)


@cache
def packaged(file_name: str) -> bytes:
    """The bytes of a file in `turnout/demo/wsdl/`."""
    return (resources.files("turnout.demo") / "wsdl" / file_name).read_bytes()


def xsd_url(service: BusService, base_url: str) -> str:
    return f"{base_url}{service.path}?xsd={service.xsd_file}"


def wsdl_url(service: BusService, base_url: str) -> str:
    return f"{base_url}{service.path}?wsdl"


def render_wsdl(service: BusService, base_url: str) -> bytes:
    """The service's WSDL with its address and schema location under `base_url`
    (`http://host:port`, no trailing slash)."""
    root = parse_xml(packaged(service.wsdl_file))
    for address in root.iter(*(f"{{{ns}}}address" for ns in _ADDRESS_NAMESPACES)):
        address.set("location", f"{base_url}{service.path}")
    for schema_import in root.iter(f"{{{_XSD_NS}}}import"):
        if schema_import.get("schemaLocation") == service.xsd_file:
            schema_import.set("schemaLocation", xsd_url(service, base_url))
    rendered: bytes = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return rendered


def load_schema(service: BusService) -> etree.XMLSchema:
    """The service's XSD as an lxml schema, for validating what the bus sends and receives.

    A new `XMLSchema` per call: lxml schema objects are not safe to share across threads.
    """
    return etree.XMLSchema(parse_xml(packaged(service.xsd_file)).getroottree())
