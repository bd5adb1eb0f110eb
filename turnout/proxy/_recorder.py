"""Recorder: hands every finished SOAP exchange to the background writer, never blocking a flow.

Redaction and the atomic write happen on the writer's thread, before anything touches disk.
GET requests (WSDL downloads) pass through and are counted, not recorded: they are not
operations and a golden test has nothing to replay in them.
"""

from __future__ import annotations

import logging

from mitmproxy import http

from ..recording import Exchange, new_exchange_id
from ..soap import HttpResponse, version_for_content_type
from ._convert import request_of, response_of
from ._inspect import Inspection
from ._state import META_KEY, FlowNote, ProxyState, is_power_of_ten

log = logging.getLogger("turnout.proxy")


class Recorder:
    def __init__(self, state: ProxyState) -> None:
        self.state = state
        self._shadow_dropped = 0

    def response(self, flow: http.HTTPFlow) -> None:
        note: FlowNote | None = flow.metadata.get(META_KEY)
        if note is None:
            return
        self.state.stats.count(f"outcome.{note.outcome}")  # final: after routing and forwarding
        if note.outcome == "passthrough":
            return
        self.state.stats.count(f"status.{flow.response.status_code if flow.response else 0}")
        self._submit(flow, note)

    def error(self, flow: http.HTTPFlow) -> None:
        """A flow that ended without a response: refused for size, or the client went away."""
        if flow.response is not None:
            return
        message = flow.error.msg if flow.error else "unknown error"
        note: FlowNote | None = flow.metadata.get(META_KEY)
        if note is not None and note.streamed is not None:  # passed on, too large to hold
            self.state.stats.count(f"outcome.{note.outcome}")
            self._submit(flow, note)
            return
        if note is None:
            version = version_for_content_type(flow.request.headers.get("content-type"))
            note = FlowNote(inspection=Inspection(version))
        if "body_size_limit" in message:
            note.outcome = "rejected"
            note.notes.append("threat:too-large")
            self.state.stats.count("outcome.rejected")
        else:
            note.outcome = "client-error"
            note.notes.append(message)
            self.state.stats.count("outcome.client-error")
        self._submit(flow, note)

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
            if shadow is not None and shadow.submit(
                exchange, inspection.read.body, inspection.target.path, note.decided
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
            self.state.stats.count("recording.dropped")
            dropped = self.state.stats.snapshot().get("recording.dropped", 0)
            if is_power_of_ten(dropped):  # counted each time; said 1, 10, 100... times
                log.error("recording queue full: %d exchanges dropped so far (latest %s for %s)",
                          dropped, exchange.id, inspection.operation)
