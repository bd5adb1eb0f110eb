"""ThreatGuard: reads every request once, names its operation, and answers threats itself."""

from __future__ import annotations

import logging

from mitmproxy import http

from ._convert import answer, request_of
from ._inspect import inspect_request
from ._state import META_KEY, FlowNote, ProxyState

log = logging.getLogger("turnout.proxy")


class ThreatGuard:
    def __init__(self, state: ProxyState) -> None:
        self.state = state

    def request(self, flow: http.HTTPFlow) -> None:
        config = self.state.config
        if config is None or flow.response is not None:
            return
        request = request_of(flow)
        inspection = inspect_request(
            request,
            config.limits,
            reject_unreadable=config.reject_unreadable,
            reject_mismatch=config.soapaction_mismatch == "reject",
            case_insensitive_paths=config.upstream_path_case_insensitive,
        )
        if inspection.target is not None:
            # What the bus executes is the normalised target: the forwarder sends it, the
            # recording is keyed by it, the route was chosen by it.
            request.path = inspection.target.request_target
        note = FlowNote(
            inspection=inspection, request=request, outcome=inspection.outcome,
            notes=list(inspection.notes),
        )
        flow.metadata[META_KEY] = note
        stats = self.state.stats
        stats.count("requests")
        if "soapaction-mismatch" in inspection.notes:
            stats.count("soapaction-mismatch")
            log.warning(
                "SOAPAction %r disagrees with the Body (%s) from %s",
                inspection.action, inspection.operation, _client(flow),
            )
        if inspection.answer is not None:
            flow.response = answer(inspection.answer, flow.request.method)
            log.warning("answered %s request from %s itself: %s", inspection.outcome, _client(flow), inspection.notes)


def _client(flow: http.HTTPFlow) -> str:
    peer = flow.client_conn.peername
    return f"{peer[0]}:{peer[1]}" if peer else "?"
