"""zeep, configured to read a WSDL the way Turnout does: from what is already read, safely.

`OfflineTransport` is a zeep transport with no network at all: it serves zeep the documents
`fetch_documents` already read through the hardened parser, and a stub (an empty schema or
definitions of the right namespace) for an import that was not fetched, so zeep reports the
missing types instead of opening a connection. The settings forbid DTDs and entities.
`forbid_external` stays False on purpose: with it, zeep aborts at the first remote import before
asking the transport; the transport is the gate, and it never connects.

`zeep_problems` loads the WSDL with zeep and turns what zeep refuses or warns about into
`Problem`s: a WSDL that Turnout can read but a zeep client cannot is worth a line in inspect.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.settings import Settings
from zeep.transports import Transport
from zeep.wsdl import Document as ZeepDocument

from ._fetch import DocumentSet, absolute
from ._known import KNOWN_SCHEMAS
from ._model import WSDL_NS, XSD_NS, Problem


class TransportRefused(ZeepError):
    """zeep asked for a document Turnout did not read (and will not fetch)."""


def zeep_settings() -> Settings:
    return Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=False,
                    xml_huge_tree=False)


class OfflineTransport(Transport):
    """Serves zeep the documents of a `DocumentSet` and nothing else; never connects."""

    def __init__(self, documents: DocumentSet) -> None:
        super().__init__(timeout=1, operation_timeout=1)
        self.documents = documents
        self.served: list[str] = []

    def load(self, url: str) -> bytes:
        location = url if "://" in url else absolute(url, os.getcwd())
        if location in KNOWN_SCHEMAS:
            return KNOWN_SCHEMAS[location]
        loaded = self.documents.loaded.get(location)
        if loaded is not None:
            self.served.append(location)
            data: bytes = etree.tostring(loaded.root.getroottree())
            return data
        skipped = self.documents.skipped.get(location)
        if skipped is not None:
            return _stub(skipped.namespace or skipped.included_by, skipped.location.endswith(
                ".wsdl"))
        raise TransportRefused(f"zeep asked for {url}, which Turnout did not read")

    def get(self, address: str, params: Any, headers: Any) -> Any:
        raise TransportRefused(f"no network: zeep asked to GET {address}")

    def post(self, address: str, message: Any, headers: Any) -> Any:
        raise TransportRefused(f"no network: zeep asked to POST to {address}")


def _stub(namespace: str | None, wsdl: bool) -> bytes:
    target = f' targetNamespace="{namespace}"' if namespace else ""
    if wsdl:
        return f'<definitions xmlns="{WSDL_NS}"{target}/>'.encode()
    return f'<schema xmlns="{XSD_NS}"{target}/>'.encode()


def load_with_zeep(documents: DocumentSet) -> ZeepDocument:
    """The WSDL as a zeep `Document`, loaded through `OfflineTransport`."""
    transport = OfflineTransport(documents)
    # zeep annotates `transport` as type[Transport], but takes (and uses) an instance
    return ZeepDocument(documents.entry, transport, settings=zeep_settings())  # type: ignore[arg-type]


def zeep_problems(documents: DocumentSet) -> list[Problem]:
    """What zeep says about the WSDL, as problems (empty when zeep loads it cleanly)."""
    problems = []
    quiet = logging.getLogger("zeep")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                load_with_zeep(documents)
            except Exception as exc:  # noqa: BLE001 - zeep raises many kinds; all are reported
                message = str(exc).strip() or type(exc).__name__
                problems.append(Problem(documents.entry, f"zeep cannot load this WSDL "
                                        f"({type(exc).__name__}): {message}"))
        for warning in caught:
            problems.append(Problem(documents.entry, f"zeep: {warning.message}"))
    finally:
        quiet.setLevel(level)
    return problems
