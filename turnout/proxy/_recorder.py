"""Recorder: hands every finished SOAP exchange to the background writer, never blocking a flow.

Redaction and the atomic write happen on the writer's thread, before anything touches disk.
GET requests (WSDL downloads) pass through and are counted, not recorded: they are not
operations and a golden test has nothing to replay in them.

Every other finished request is also handed to the audit trail (`turnout.audit`), when
`audit:` is configured, whatever the recording settings: one line each, threats included.
"""

from __future__ import annotations

import logging

from mitmproxy import http

from ..audit import Audit, open_audit, request_id_for
from ..recording import Exchange, new_exchange_id
from ..soap import HttpResponse, version_for_content_type
from ._convert import request_of, response_of
from ._inspect import Inspection
from ._router import establish
from ._state import META_KEY, FlowNote, ProxyState, is_power_of_ten

log = logging.getLogger("turnout.proxy")


class Recorder:
    def __init__(self, state: ProxyState) -> None:
        self.state = state
        self._shadow_dropped = 0
        #: the access audit trail (None: no `audit:` section); its key is read here, at start
        self.audit: Audit | None = open_audit(state.config, state.stats.count) if state.config else None

    def response(self, flow: http.HTTPFlow) -> None:
        note: FlowNote | None = flow.metadata.get(META_KEY)
        if note is None:
            return
        self.state.stats.count(f"outcome.{note.outcome}")  # final: after routing and forwarding
        if note.outcome == "passthrough":
            return
        self.state.stats.count(f"status.{flow.response.status_code if flow.response else 0}")
        self._audit(flow, note)
        self._submit(flow, note)

    def error(self, flow: http.HTTPFlow) -> None:
        """A flow that ended without a response: refused for size, or the client went away."""
        if flow.response is not None:
            return
        message = flow.error.msg if flow.error else "unknown error"
        note: FlowNote | None = flow.metadata.get(META_KEY)
        if note is not None and note.streamed is not None:  # passed on, too large to hold
            self.state.stats.count(f"outcome.{note.outcome}")
            self._audit(flow, note)
            self._submit(flow, note)
            return
        if note is None:
            version = version_for_content_type(flow.request.headers.get("content-type"))
            note = FlowNote(inspection=Inspection(version),
                            request_id=request_id_for(flow.request.headers.items(multi=True)))
        if "body_size_limit" in message:
            note.outcome = "rejected"
            note.notes.append("threat:too-large")
            self.state.stats.count("outcome.rejected")
        else:
            note.outcome = "client-error"
            note.notes.append(message)
            self.state.stats.count("outcome.client-error")
        self._audit(flow, note)
        self._submit(flow, note)

    def running(self) -> None:
        if self.audit is None and self.state.config is not None:  # mitmdump -s: config came later
            self.audit = open_audit(self.state.config, self.state.stats.count)

    def done(self) -> None:
        if self.audit is not None:  # after the drain: every answered request has its line
            self.audit.close(timeout=10.0)

    def _audit(self, flow: http.HTTPFlow, note: FlowNote) -> None:
        """One audit line for this request (queued; the trail writes it off the loop)."""
        if self.audit is None:
            return
        inspection = note.inspection
        status = note.streamed.status if note.streamed is not None else (
            flow.response.status_code if flow.response is not None else None)
        peer = flow.client_conn.peername
        try:
            self.audit.record(
                at=note.started_at, request_id=note.request_id,
                headers=note.request.headers if note.request else list(flow.request.headers.items(multi=True)),
                envelope=inspection.envelope,
                service=inspection.read.service if inspection.read else None,
                route=note.route, outcome=note.outcome, notes=note.notes,
                status=status,
                ms=note.elapsed_ms(), client=peer[0] if peer else None,
                verified=getattr(note, "identity", None),  # the verified caller, once issue 11 sets it
            )
        except Exception:  # noqa: BLE001 - a bug in the audit must not fail the request
            if is_power_of_ten(self.state.stats.count("audit.failed")):
                log.exception("audit: could not build the line of request %s", note.request_id)

    def _submit(self, flow: http.HTTPFlow, note: FlowNote) -> None:
        writer = self.state.writer
        shadow = self.state.shadow
        shadowed = note.route == "shadow" and note.decided is not None and flow.response is not None
        if writer is None and not shadowed:
            return
        inspection = note.inspection
        timings = {"total": round(note.elapsed_ms(), 3)}
        if note.upstream_ms is not None:
            timings["upstream"] = round(note.upstream_ms, 3)
        peer = flow.client_conn.peername
        exchange = Exchange(
            id=new_exchange_id(),
            started_at=note.started_at,
            operation=inspection.operation,
            soap_version=inspection.version.name if inspection.envelope else None,
            action=inspection.action,
            route=note.route,
            outcome=note.outcome,
            notes=list(note.notes),
            client=f"{peer[0]}:{peer[1]}" if peer else "",
            request=note.request or request_of(flow),
            response=note.streamed if note.streamed is not None else response_of(flow),
            timings=timings,
        )
        run = note.translation
        if run is not None:
            exchange.translation = run.record()
            if run.reply is not None:
                exchange.translated = HttpResponse(
                    run.reply.status, [("Content-Type", run.reply.content_type)], run.reply.body
                )
        if shadowed and inspection.envelope is not None and inspection.read is not None:
            assert note.decided is not None and inspection.target is not None
            # the translator of the pair the request was routed by, not of a later reload
            translator = note.translators.get(note.decided.translator_name) if note.translators is not None \
                else self.state.translators.get(note.decided.translator_name)
            # the shadow carries the caller's identity as the translator path would
            refusal, authorise = establish(self.state, note, inspection.envelope, note.decided.key)
            if shadow is not None and shadow.submit(
                exchange, inspection.read.body, inspection.target.path, note.decided, translator,
                refusal=refusal, authorise=authorise,
            ):
                return  # the shadow runner records it, with the translation and the diff
            exchange.notes.append("shadow-dropped")
            self._shadow_dropped += 1
            if is_power_of_ten(self._shadow_dropped):  # counted each time; said 1, 10, 100... times
                log.warning("shadow queue full: %d requests answered by legacy only so far (latest: %s)",
                            self._shadow_dropped, inspection.operation)
        if writer is None:
            return
        if not writer.submit(exchange):
            dropped = self.state.stats.count("recording.dropped")
            if is_power_of_ten(dropped):  # counted each time; said 1, 10, 100... times
                log.error("recording queue full: %d exchanges dropped so far (latest %s for %s)",
                          dropped, exchange.id, inspection.operation)
