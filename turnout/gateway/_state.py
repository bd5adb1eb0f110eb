"""What the gateway holds while it runs (config, counters, routes in force, the long-lived parts)
and what it learns about each request on its way through (`RequestNote`)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..audit import request_id_for
from ..config import ProxyConfig
from ..recording import RecordingWriter
from ..routing import LiveRoutes, Route, RouteHolder
from ..soap import HttpRequest, HttpResponse
from ._inspect import Inspection
from ._metrics import GatewayMetrics
from ._outcomes import Mode, Outcome

if TYPE_CHECKING:
    from ..soap import Identity
    from ..transport import Transport
    from ._bus import BusClient
    from ._identity import Gatekeeper, Refusal
    from ._services import ServiceClients
    from ._shadow import ShadowRunner
    from ._spans import SpanExport
    from ._translate import TranslationRun

META_KEY = "turnout"


def is_power_of_ten(n: int) -> bool:
    """1, 10, 100...: when to log something that may happen on every request (with its count)."""
    while n >= 10 and n % 10 == 0:
        n //= 10
    return n == 1


class ProxyStats:
    """Thread-safe counters: what the proxy saw and did. Logged, and shown by the CLI.

    Counted from the serving loop several times per request and from other threads too (the
    audit trail's writer, the recording writer's reader, the route watcher), so every count
    takes the lock; a plain dict under it costs less than a `Counter`'s two look-ups."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def count(self, name: str, n: int = 1) -> int:
        """Add `n` to `name`; return its new total (to log at 1, 10, 100... without a snapshot)."""
        counts = self._counts
        with self._lock:
            total = counts[name] = counts.get(name, 0) + n
        return total

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


@dataclass(frozen=True)
class Peer:
    """Where a request came from: the client's address as the host saw it."""

    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        return f"{self.host}:{self.port}" if self.host else "?"


@dataclass(slots=True)
class RequestNote:
    """Everything the gateway learns about one request, from its reading to its last answer."""

    inspection: Inspection
    #: the request as the guard read it, once (path normalised); the bus gets it, the recording keeps it
    request: HttpRequest
    route: Mode = Mode.LEGACY
    outcome: Outcome = Outcome.FORWARDED
    peer: Peer = field(default_factory=Peer)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)
    upstream_ms: float | None = None
    notes: list[str] = field(default_factory=list)
    #: the route the request was decided on (from the table in force when it arrived)
    decided: Route | None = None
    #: the translators of the pair `decided` came from (see `RouteHolder.served`)
    translators: Mapping[str, Any] | None = None
    #: the caller's verified identity (translator path), or why there is none
    identity: Identity | None = None
    refusal: Refusal | None = None
    translation: TranslationRun | None = None
    #: the head of a bus answer passed on without being held (over max_response_bytes)
    streamed: HttpResponse | None = None
    #: the request's id: the client's X-Request-Id when it is a plain token, else a new one
    #: (the audit trail's line carries it); the guard passes it in, read from the headers it
    #: has already keyed (`request_id_for`)
    request_id: str = ""
    #: the W3C trace this request belongs to (32 hex digits; taken from the client's
    #: `traceparent` or begun here) and this proxy's span in it (16 hex digits); "" until set
    trace_id: str = ""
    span_id: str = ""
    #: the client's span (from its `traceparent`), the proxy span's parent; "": none, a new trace
    parent_span_id: str = ""
    #: the trace flags passed on: "01" sampled, "00" not (the client's, else the sampler's)
    trace_flags: str = "00"
    #: when the bus call began (`time.perf_counter`), for its span; None: the bus was not called
    upstream_started: float | None = None

    def __post_init__(self) -> None:
        if not self.request_id:
            self.request_id = request_id_for(self.request.headers)

    #: answered by the bus and to be run through the translator off the client's path
    shadowed: bool = False

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


#: the name the mitmproxy host knew it by
FlowNote = RequestNote


class ProxyState:
    """One per running gateway; the host's parts and the admin endpoint read the same instance."""

    def __init__(self, config: ProxyConfig | None = None, writer: RecordingWriter | None = None) -> None:
        self.config = config
        self.writer = writer
        self.stats = ProxyStats()
        #: the route table and the translators in force, one immutable pair (`routes.served()`)
        self.routes = RouteHolder()
        #: the legacy bus and the modern services, through one transport (set by `start`)
        self.transport: Transport | None = None
        self.bus: BusClient | None = None
        self.services: ServiceClients | None = None
        self.shadow: ShadowRunner | None = None
        #: establishes callers' identities before a translator runs (`identity:`); None: off
        self.gatekeeper: Gatekeeper | None = None
        #: reloads the route file and the translators live (None: no route file to watch)
        self.watcher: LiveRoutes | None = None
        #: where the read-only admin endpoint listens, once it does
        self.admin_url: str | None = None
        #: the event loop serving requests, once running: reloads are put in force on it
        self.loop: asyncio.AbstractEventLoop | None = None
        #: set once `start` has opened the transport: a host that listens before its start hook
        #: has run (mitmproxy opens its listener in an earlier addon's `running`) waits for it
        self.started = asyncio.Event()
        #: set when a graceful stop begins: /readyz fails from then on, so a load balancer
        #: drains this instance while it still answers what reaches it
        self.draining = False
        #: what /metrics shows, aggregated cheaply per request (None: not measured; benches)
        self.metrics: GatewayMetrics | None = GatewayMetrics(self.routes)
        #: exports each sampled request's spans over OTLP (`tracing:`, set by `start`); None: off
        self.spans: SpanExport | None = None

    @property
    def translators(self) -> Mapping[str, Any]:
        """Translator name -> translator, of the pair in force (empty: every route is legacy).

        A request that needs both its route and its translator should take `routes.served()`
        once and use both halves of it."""
        return self.routes.translators

    @translators.setter
    def translators(self, translators: Mapping[str, Any]) -> None:
        self.routes.replace_translators(translators)
