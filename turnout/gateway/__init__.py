"""The host-neutral request pipeline: plain request and response values in, an answer out.

`Gateway.handle` runs the steps in order (guard, name, keep moved operations off the bus,
route, one strategy per mode) and `Gateway.finish` hands the finished exchange to the audit
trail, the recording writer and the shadow runner; `prepare`, `start` and `stop` hold the
long-lived parts. The bus and the modern services are reached through one transport seam
(`turnout.transport`). A host (turnout/proxy: the mitmproxy adapter, the fast asyncio host)
only turns its own request objects into `HttpRequest`s and sends back what it is given.
"""

from ._bus import BusClient, UpstreamError
from ._differ import ProcessDiffer, make_differ
from ._framing import client_response
from ._health import Health, Readiness
from ._identity import Gatekeeper, Refusal
from ._inspect import Inspection, fault_answer, inspect_request
from ._lifecycle import known_services, make_writer, prepare, start, stop
from ._metrics import GatewayMetrics
from ._outcomes import Mode, Outcome
from ._pipeline import Gateway, Handled, answer_of, fault_of
from ._prometheus import registry_for
from ._reading import ReadRequest, read_request
from ._safety import bus_refusal, route_for
from ._services import ServiceClients, ServiceError
from ._shadow import ShadowRunner
from ._state import FlowNote, Peer, ProxyState, ProxyStats, RequestNote, is_power_of_ten
from ._translate import TranslationRun, run_translation

__all__ = [
    "BusClient", "FlowNote", "Gatekeeper", "Gateway", "GatewayMetrics", "Handled", "Health", "Inspection",
    "Mode", "Outcome", "Peer",
    "ProcessDiffer", "ProxyState", "ProxyStats", "ReadRequest", "Readiness", "Refusal", "RequestNote",
    "ServiceClients", "ServiceError", "ShadowRunner", "TranslationRun", "UpstreamError", "answer_of",
    "bus_refusal", "client_response", "fault_answer", "fault_of", "inspect_request", "is_power_of_ten",
    "known_services", "make_differ", "make_writer", "prepare", "read_request", "registry_for", "route_for",
    "run_translation",
    "start", "stop",
]
