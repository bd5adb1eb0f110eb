"""Recordings as a virtual bus and virtual modern services (`turnout mock legacy|services`).

The virtual bus answers each SOAP request with the recorded answer to the same request, named
and read as the proxy names and reads it, matched under the compare rules, with volatile values
made fresh; the virtual services do the same for the translators' JSON calls. Neither needs the
pseudonymisation key: pseudonymised recordings are served as they are (docs/mock.md).
"""

from ._apps import legacy_app, serve, serve_all, services_app
from ._book import Choice, LegacyBook, Recorded, canonical
from ._bus import Answer, VirtualBus
from ._fresh import MOMENT_FORMATS, Freshener, fresh_value
from ._handed import Handed
from ._latency import Latency, parse_latency
from ._load import RULES_FILE, mock_rules, open_legacy, open_services, writes_by
from ._services import RecordedCall, ServiceAnswer, ServiceBook
from ._wsdl import WsdlDocuments, WsdlError

__all__ = [
    "Answer",
    "Choice",
    "Freshener",
    "Handed",
    "Latency",
    "LegacyBook",
    "MOMENT_FORMATS",
    "RULES_FILE",
    "Recorded",
    "RecordedCall",
    "ServiceAnswer",
    "ServiceBook",
    "VirtualBus",
    "WsdlDocuments",
    "WsdlError",
    "canonical",
    "fresh_value",
    "legacy_app",
    "mock_rules",
    "open_legacy",
    "open_services",
    "parse_latency",
    "serve",
    "serve_all",
    "services_app",
    "writes_by",
]
