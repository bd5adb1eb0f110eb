"""Router: decides, per request, legacy or translator, from the route table in force.

Runs after the guard and before the legacy forwarder. For `translator` (and the canary share)
it answers the request itself; for `legacy` and `shadow` it leaves the request to the forwarder.
A request whose SOAPAction names another operation than its Body only ever goes to the bus.
"""

from __future__ import annotations

import logging

from mitmproxy import http

from ..routing import Route, caller_id, choose_canary
from ..soap import Fault, headers_dict
from ._convert import answer, fault_response
from ._inspect import ProxyAnswer
from ._state import META_KEY, FlowNote, ProxyState
from ._translate import TranslationRun, run_translation

log = logging.getLogger("turnout.proxy")


class Router:
    def __init__(self, state: ProxyState) -> None:
        self.state = state

    async def request(self, flow: http.HTTPFlow) -> None:
        note: FlowNote | None = flow.metadata.get(META_KEY)
        if flow.response is not None or note is None or note.inspection.envelope is None:
            return
        if "soapaction-mismatch" in note.notes:
            return  # client and Body disagree about what this is: only the bus may decide
        table = self.state.routes.get()  # this request keeps this table, whatever reloads later
        route = table.route_for(note.inspection.envelope.operation.key)
        note.decided = route
        if route.mode == "legacy":
            return
        note.route = route.mode
        if route.mode == "shadow":
            return  # answered by the bus; the shadow runner follows after the response
        if route.mode == "canary":
            who = caller_id(
                headers_dict([(k, v) for k, v in flow.request.headers.items(multi=True)]),
                flow.client_conn.peername[0] if flow.client_conn.peername else "",
                table.sticky_header,
            )
            if not choose_canary(route, who, table.salt):
                note.notes.append("canary:legacy")
                return
            note.notes.append("canary:translator")
        note.forward_allowed = False
        try:
            await self._translate(flow, note, route)
        except Exception:  # noqa: BLE001 - never let mitmproxy forward by default
            log.exception("router failed on %s", route.key)
            self._fault(flow, note, "router", "the proxy failed while translating the request")

    async def _translate(self, flow: http.HTTPFlow, note: FlowNote, route: Route) -> None:
        translator = self.state.translators.get(route.translator_name)
        services = self.state.services
        envelope = note.inspection.envelope
        assert envelope is not None
        if translator is None or services is None:
            run = TranslationRun(route.translator_name, kind="translator-missing",
                                 error=f"no translator {route.translator_name!r} is loaded")
        else:
            run = await run_translation(translator, envelope, services, route.timeout)
        note.translation = run
        stats = self.state.stats
        if run.reply is not None:
            stats.count("translator.ok")
            note.outcome = "translated"
            flow.response = answer(ProxyAnswer(run.reply.status, run.reply.content_type, run.reply.body))
            return
        stats.count(f"translator.{run.kind}")
        log.warning("%s: translator failed (%s): %s", route.key, run.kind, run.error)
        if route.on_error == "legacy" and not (route.writes and run.may_have_acted):
            note.outcome = "fallback"
            note.notes.append(f"fallback:{run.kind}")
            note.forward_allowed = True  # the one place a translated route may reach the bus
            return
        self._fault(flow, note, run.kind, f"the {route.translator_name} translator failed: {run.error}")

    def _fault(self, flow: http.HTTPFlow, note: FlowNote, kind: str, reason: str) -> None:
        note.outcome = "translator-fault"
        note.forward_allowed = False
        fault = Fault(reason, sender=False, kind=f"translator.{kind}")
        flow.response = fault_response(note.inspection.version, fault)
