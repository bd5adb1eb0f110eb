"""After the client has its answer: counters, the audit line, the recording and the shadow.

Nothing here delays or fails a client's answer: the audit trail and the recording writer only
queue (the writer redacts and writes in its own process), the shadow runner only queues, and a
full queue drops and counts. GET requests with no body (WSDL downloads) are counted, neither
recorded nor audited: they are not operations and a golden test has nothing to replay in them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..recording import Exchange, new_exchange_id
from ..soap import HttpResponse
from ..translators import SoapReply
from ._outcomes import Mode, Outcome
from ._state import RequestNote, is_power_of_ten

if TYPE_CHECKING:
    from ._pipeline import Gateway

log = logging.getLogger("turnout.proxy")


def finish(gateway: Gateway, note: RequestNote, response: HttpResponse | None, status: int | None) -> None:
    stats = gateway.state.stats
    stats.count(f"outcome.{note.outcome}")  # final: after routing and forwarding
    metrics = gateway.state.metrics
    if metrics is not None:
        metrics.observe(note)
    if note.outcome is Outcome.PASSTHROUGH:
        return
    if response is not None or status is not None:
        stats.count(f"status.{status if status is not None else 0}")
    _audit(gateway, note, status)
    _record(gateway, note, note.streamed if note.streamed is not None else response)


def _audit(gateway: Gateway, note: RequestNote, status: int | None) -> None:
    """One audit line for this request (queued; the trail writes it off the loop)."""
    audit = gateway.audit
    if audit is None:
        return
    inspection = note.inspection
    try:
        audit.record(
            at=note.started_at, request_id=note.request_id,
            headers=note.request.headers if note.request else [],
            envelope=inspection.envelope,
            service=inspection.read.service if inspection.read else None,
            route=str(note.route), outcome=str(note.outcome), notes=note.notes,
            status=status, ms=note.elapsed_ms(), client=note.peer.host or None,
            verified=note.identity,
        )
    except Exception:  # noqa: BLE001 - a bug in the audit must not fail the request
        if is_power_of_ten(gateway.state.stats.count("audit.failed")):
            log.exception("audit: could not build the line of request %s", note.request_id)


def exchange_of(note: RequestNote, response: HttpResponse | None) -> Exchange:
    """The exchange as it will be recorded (the writer redacts it before anything touches disk)."""
    inspection = note.inspection
    timings = {"total": round(note.elapsed_ms(), 3)}
    if note.upstream_ms is not None:
        timings["upstream"] = round(note.upstream_ms, 3)
    exchange = Exchange(
        id=new_exchange_id(), started_at=note.started_at, operation=inspection.operation,
        soap_version=inspection.version.name if inspection.envelope else None,
        action=inspection.action, route=str(note.route), outcome=str(note.outcome),
        notes=list(note.notes), client=str(note.peer) if note.peer.host else "",
        request=note.request, response=response, timings=timings,
        request_id=note.request_id, trace_id=note.trace_id,
    )
    run = note.translation
    if run is not None:
        exchange.translation = run.record()
        if run.reply is not None:
            exchange.translated = translated_response(run.reply)
    return exchange


def translated_response(reply: SoapReply) -> HttpResponse:
    """A translator's reply as the recording keeps it (as the client got it, unframed)."""
    return HttpResponse(reply.status, [("Content-Type", reply.content_type)], reply.body)


def _record(gateway: Gateway, note: RequestNote, response: HttpResponse | None) -> None:
    state = gateway.state
    writer, shadow = state.writer, state.shadow
    inspection = note.inspection
    shadowed = note.shadowed and note.route is Mode.SHADOW and note.decided is not None and response is not None
    if writer is None and not shadowed:
        return
    exchange = exchange_of(note, response)
    if shadowed and inspection.envelope is not None and inspection.read is not None:
        assert note.decided is not None and inspection.target is not None
        from ._strategies import establish

        # the translator of the pair the request was routed by, not of a later reload
        translators = note.translators if note.translators is not None else state.translators
        translator = translators.get(note.decided.translator_name)
        # the shadow carries the caller's identity as the translator path would
        refusal, authorise = establish(gateway, note, inspection.envelope, note.decided.key)
        if shadow is not None and shadow.submit(
            exchange, inspection.read.body, inspection.target.path, note.decided, translator,
            refusal=refusal, authorise=authorise, trace=(note.span_id, note.trace_flags),
        ):
            return  # the shadow runner records it, with the translation and the diff
        exchange.notes.append("shadow-dropped")
        gateway.shadow_dropped += 1
        if state.metrics is not None:
            state.metrics.shadow_dropped()
        dropped = gateway.shadow_dropped
        if is_power_of_ten(dropped):  # counted each time; said 1, 10, 100... times
            log.warning("shadow queue full: %d requests answered by legacy only so far (latest: %s)",
                        dropped, inspection.operation)
    if writer is None:
        return
    if not writer.submit(exchange):
        dropped = state.stats.count("recording.dropped")
        if is_power_of_ten(dropped):  # counted each time; said 1, 10, 100... times
            log.error("recording queue full: %d exchanges dropped so far (latest %s for %s)",
                      dropped, exchange.id, inspection.operation)
