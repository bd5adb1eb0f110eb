"""What one legacy service is: path, SOAP version, namespace, documents and operations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from lxml import etree

from ...soap import SoapVersion
from ..data import DemoStore
from ._codec import Fields
from ._fault import BusFault

# A handler reads the fields of the request element and returns the response element
# (`<Op>Response`), or raises BusFault.
Handler = Callable[[DemoStore, Fields], etree._Element]


class Envelopes(Protocol):
    """How a service writes its envelopes, when not as the bus's own services do (a
    `MessageHeader` on every answer and a `ServiceFault` detail): MERLIN writes as spyne does."""

    def response(self, service: BusService, payload: etree._Element, now: datetime) -> bytes: ...

    def fault(self, service: BusService, fault: BusFault, now: datetime) -> bytes: ...


@dataclass(frozen=True)
class BusService:
    name: str  # "pnc"
    title: str  # "Police National Computer enquiries"
    version: SoapVersion
    namespace: str  # "urn:police:pnc:v1"
    prefix: str  # the namespace prefix the bus writes: "pnc"
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    #: None: the bus's own envelopes (`_envelope.py`)
    envelopes: Envelopes | None = None

    @property
    def path(self) -> str:
        return f"/{self.name}"

    @property
    def wsdl_file(self) -> str:
        return f"{self.name}.wsdl"

    @property
    def xsd_file(self) -> str:
        return f"{self.name}.xsd"

    def soap_action(self, operation: str) -> str:
        return f"{self.namespace}#{operation}"
