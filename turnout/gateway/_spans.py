"""Spans over OTLP/HTTP, when `tracing.otlp_endpoint` is set: one per request, and its children.

Spans are written after the fact, from what the request's note already holds (its ids, when it
began, the bus call's start and length, the translation's), once the client has its answer: no
span object lives on the client's path, and no context manager wraps a step. OpenTelemetry's
`BatchSpanProcessor` queues each finished span and its own thread sends them in batches; it is
flushed when the proxy stops.

- the request: named after the operation (`/pnc VehicleEnquiry`), or `POST unrouted` when no
  operation was read; kind SERVER; its parent the client's span (from `traceparent`); its id
  the one the bus and the services were given as their parent. Attributes: route, outcome,
  HTTP method and status, request id.
- the bus call and each modern-service call: CLIENT children of the request's span.
- a shadow run: an INTERNAL child of the request's span, with its service call below it; its id
  is the parent the shadow's service calls were given.

No attribute carries request content: no path beyond the service's, no query, no body (a
vehicle's registration mark is in a service call's path).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from ..config import TracingSettings
from ._outcomes import Outcome
from ._trace_context import new_span_id

if TYPE_CHECKING:
    from ._state import RequestNote
    from ._translate import TranslationRun

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_ERROR = Status(StatusCode.ERROR)
_UNSET = Status(StatusCode.UNSET)
_FAILED = frozenset({Outcome.UPSTREAM_ERROR, Outcome.TRANSLATOR_FAULT})
Attributes = Mapping[str, str | int | float | bool]


class SpanExport:
    """The spans of sampled requests, to one OTLP/HTTP endpoint."""

    def __init__(self, settings: TracingSettings, exporter: SpanExporter | None = None) -> None:
        self.settings = settings
        self._processor = BatchSpanProcessor(exporter or OTLPSpanExporter(endpoint=settings.otlp_endpoint))
        self._resource = Resource.create({"service.name": settings.service_name})
        self._scope = InstrumentationScope("turnout")
        #: a new trace is sampled when the low 64 bits of its id fall below this (as
        #: OpenTelemetry's TraceIdRatioBased sampler decides): the same trace, the same answer
        self._bound = round(settings.sample_ratio * (1 << 64))

    def samples(self, trace_id: str) -> bool:
        """Whether a trace begun here is exported (a client's trace: its own sampled flag)."""
        return int(trace_id[16:], 16) < self._bound

    def request(self, note: RequestNote, method: str, status: int | None) -> None:
        """The request's span and its children (call when the client has its answer)."""
        now_ns, now = time.time_ns(), time.perf_counter()

        def at(moment: float) -> int:
            return now_ns - int((now - moment) * 1e9)

        trace = int(note.trace_id, 16)
        own = SpanContext(trace, int(note.span_id, 16), False, _SAMPLED)
        parent = (SpanContext(trace, int(note.parent_span_id, 16), True, _SAMPLED)
                  if note.parent_span_id else None)
        operation = note.inspection.operation
        attributes: dict[str, str | int | float | bool] = {
            "turnout.route": str(note.route), "turnout.outcome": str(note.outcome),
            "turnout.request_id": note.request_id, "http.request.method": method,
        }
        if status is not None:
            attributes["http.response.status_code"] = status
        failed = note.outcome in _FAILED or (status is not None and status >= 500)
        spans = [self._span(str(operation) if operation is not None else f"{method} unrouted",
                            own, parent, SpanKind.SERVER, at(note.started), now_ns, attributes, failed)]
        if note.upstream_started is not None and note.upstream_ms is not None:
            started = at(note.upstream_started)
            spans.append(self._child(trace, own, "legacy bus", started, started + int(note.upstream_ms * 1e6),
                                     {"turnout.peer": "bus"}, note.outcome is Outcome.UPSTREAM_ERROR))
        elif note.upstream_started is not None:  # the bus failed: its span ends with the request
            spans.append(self._child(trace, own, "legacy bus", at(note.upstream_started), now_ns,
                                     {"turnout.peer": "bus"}, True))
        if note.translation is not None:
            spans.extend(self._service(trace, own, note.translation, at))
        for span in spans:
            self._processor.on_end(span)

    def shadow(self, trace_id: str, parent_span_id: str, span_id: str, operation: str,
               run: TranslationRun, started: float) -> None:
        """A shadow run's span (`span_id`, under the request's) and its service call's."""
        now_ns, now = time.time_ns(), time.perf_counter()

        def at(moment: float) -> int:
            return now_ns - int((now - moment) * 1e9)

        trace = int(trace_id, 16)
        own = SpanContext(trace, int(span_id, 16), False, _SAMPLED)
        parent = SpanContext(trace, int(parent_span_id, 16), False, _SAMPLED)
        spans = [self._span(f"shadow {operation}", own, parent, SpanKind.INTERNAL, at(started), now_ns,
                            {"turnout.shadow.kind": run.kind}, not run.ok),
                 *self._service(trace, own, run, at)]
        for span in spans:
            self._processor.on_end(span)

    def flush(self) -> None:
        """Send what is queued now, on this thread (bench/tracing_cost.py)."""
        self._processor.force_flush()

    def shutdown(self) -> None:
        """Send what is queued (bounded by the exporter's timeout) and stop the sending thread."""
        self._processor.shutdown()

    def _service(self, trace: int, parent: SpanContext, run: TranslationRun,
                 at: Callable[[float], int]) -> Sequence[ReadableSpan]:
        call = run.call
        if call is None or run.called is None or run.service_ms is None:
            return ()
        started = at(run.called)
        attributes: dict[str, str | int | float | bool] = {
            "turnout.service": call.service, "http.request.method": call.method,
        }
        reply = run.json_reply
        if reply is not None:
            attributes["http.response.status_code"] = reply.status
        failed = reply is None or reply.status >= 500
        return (self._child(trace, parent, f"{call.service} {call.method}", started,
                            started + int(run.service_ms * 1e6), attributes, failed),)

    def _child(self, trace: int, parent: SpanContext, name: str, start: int, end: int,
               attributes: Attributes, failed: bool) -> ReadableSpan:
        own = SpanContext(trace, int(new_span_id(), 16), False, _SAMPLED)
        return self._span(name, own, parent, SpanKind.CLIENT, start, end, attributes, failed)

    def _span(self, name: str, own: SpanContext, parent: SpanContext | None, kind: SpanKind,
              start: int, end: int, attributes: Attributes, failed: bool) -> ReadableSpan:
        return ReadableSpan(name, own, parent, self._resource, attributes, kind=kind,
                            status=_ERROR if failed else _UNSET,
                            start_time=start, end_time=max(start, end), instrumentation_scope=self._scope)
