"""The WSDLs a virtual bus serves: files from a folder, addressed to the mock itself.

Recordings hold no WSDLs, so they come from a folder (`--wsdl DIR`, e.g. `turnout/demo/wsdl`).
Each `*.wsdl` there is served at the service path its `soap:address` names (`/cris?wsdl`),
with that address rewritten to the URL the client reached the mock on, so a client that read
the WSDL from the mock calls the mock. A schema the WSDL imports by a bare file name is served
beside it as `/cris?xsd=cris.xsd`, and the import is rewritten to that URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from turnout.soap import SoapError, parse_xml

_ADDRESS_NAMESPACES = (
    "http://schemas.xmlsoap.org/wsdl/soap/",
    "http://schemas.xmlsoap.org/wsdl/soap12/",
)
_XSD_NS = "http://www.w3.org/2001/XMLSchema"


class WsdlError(Exception):
    """A WSDL folder that cannot be served; says which file and why."""


@dataclass(frozen=True)
class _Document:
    service: str
    wsdl: bytes
    schemas: dict[str, bytes]


class WsdlDocuments:
    """WSDLs (and the schemas they import) by service path."""

    def __init__(self, documents: dict[str, _Document] | None = None) -> None:
        self._documents = documents or {}

    @classmethod
    def from_dir(cls, folder: Path) -> WsdlDocuments:
        documents: dict[str, _Document] = {}
        for path in sorted(Path(folder).glob("*.wsdl")):
            try:
                root = parse_xml(path.read_bytes())
            except (OSError, SoapError) as exc:
                raise WsdlError(f"{path}: cannot read: {exc}") from exc
            address = next(root.iter(*(f"{{{ns}}}address" for ns in _ADDRESS_NAMESPACES)), None)
            location = address.get("location") if address is not None else None
            if not location:
                raise WsdlError(f"{path}: no soap:address location names the service path")
            service = urlsplit(location).path.rstrip("/") or "/"
            schemas = {}
            for schema_import in root.iter(f"{{{_XSD_NS}}}import", f"{{{_XSD_NS}}}include"):
                name = schema_import.get("schemaLocation") or ""
                if name and "/" not in name and (path.parent / name).is_file():
                    schemas[name] = (path.parent / name).read_bytes()
            documents[service] = _Document(service, path.read_bytes(), schemas)
        return cls(documents)

    @property
    def services(self) -> list[str]:
        return sorted(self._documents)

    def wsdl(self, service: str, base_url: str) -> bytes | None:
        """The service's WSDL addressed to `base_url` (`http://host:port`), or None."""
        document = self._documents.get(service)
        if document is None:
            return None
        root = parse_xml(document.wsdl)
        for address in root.iter(*(f"{{{ns}}}address" for ns in _ADDRESS_NAMESPACES)):
            address.set("location", f"{base_url}{service}")
        for schema_import in root.iter(f"{{{_XSD_NS}}}import", f"{{{_XSD_NS}}}include"):
            name = schema_import.get("schemaLocation")
            if name in document.schemas:
                schema_import.set("schemaLocation", f"{base_url}{service}?xsd={name}")
        rendered: bytes = etree.tostring(root, xml_declaration=True, encoding="utf-8")
        return rendered

    def schema(self, service: str, name: str) -> bytes | None:
        document = self._documents.get(service)
        return None if document is None else document.schemas.get(name)
