"""Router: decides, per request, legacy or translator, from the route table in force.

Runs after the guard and before the legacy forwarder. For `translator` (and the canary share)
it answers the request itself; for `legacy` and `shadow` it leaves the request to the forwarder.
Before any of that, `turnout.gateway.bus_refusal` refuses what could make the bus run an
operation moved off it (a SOAPAction naming another operation, another method, an unreadable
body on a service with a moved write). A SOAPAction/Body disagreement where neither operation
is moved still goes to the bus alone: only the bus may decide what it means.
"""

from __future__ import annotations

import logging

from mitmproxy import http

from typing import Callable

from ..gateway import Refusal, bus_refusal, route_for
from ..soap import Envelope
from ..translators import JsonCall, JsonReply
from ..routing import Route, caller_id, choose_canary
from ..soap import Fault, headers_dict
from ._convert import answer, fault_response
from ._inspect import ProxyAnswer
from ._state import META_KEY, FlowNote, ProxyState
from ._translate import TranslationRun, loggable, run_translation

log = logging.getLogger("turnout.proxy")


def establish(
    state: ProxyState, note: FlowNote, envelope: Envelope, operation_key: str
) -> tuple[JsonReply | None, Callable[[JsonCall], tuple[tuple[str, str], ...]] | None]:
    """Who is calling, as the bus would establish it (when `identity:` is configured): the
    refusal the translator words instead of calling, or the token each call carries."""
    gatekeeper = state.gatekeeper
    if gatekeeper is None:
        return None, None
    if note.identity is None and note.refusal is None:
        outcome = gatekeeper.establish(envelope, operation_key)
        if isinstance(outcome, Refusal):
            note.refusal = outcome
            note.notes.append(f"identity:{outcome.kind}")
            log.warning("%s: caller refused on the translator path (%s)", operation_key, outcome.why)
        else:
            note.identity = outcome
    if note.refusal is not None:
        return gatekeeper.refusal_reply(note.refusal), None
    identity = note.identity
    assert identity is not None

    def authorise(call: JsonCall) -> tuple[tuple[str, str], ...]:
        token = gatekeeper.token(identity, call.service, operation_key, note.request_id)
        return (("Authorization", f"Bearer {token}"),)

    return None, authorise


class Router:
    def __init__(self, state: ProxyState) -> None:
        self.state = state

    async def request(self, flow: http.HTTPFlow) -> None:
        note: FlowNote | None = flow.metadata.get(META_KEY)
        if flow.response is not None or note is None:
            return
        # This request keeps this route table and its translators, whatever reloads later.
        served = self.state.routes.served()
        table = served.table
        note.translators = served.translators
        config = self.state.config
        insensitive = bool(config and config.upstream_path_case_insensitive)
        read = note.inspection.read
        if read is not None:
            try:
                refusal = bus_refusal(read, table, flow.request.method, insensitive)
            except Exception:  # noqa: BLE001 - a bug here must not let the request reach the bus
                log.exception("the bus-safety check failed on %s", read.service)
                refusal = Fault("the proxy could not decide where this request may go",
                                sender=False, kind="routing.internal")
            if refusal is not None:
                # Sending it on could make the bus run an operation moved off it: never.
                note.forward_allowed = False
                note.outcome = "rejected"
                note.notes.append(f"refused:{refusal.kind}")
                self.state.stats.count(f"refused.{refusal.kind}")
                log.warning("%s %s refused: %s", flow.request.method, read.service, refusal.reason)
                flow.response = fault_response(note.inspection.version, refusal)
                return
        envelope = note.inspection.envelope
        if envelope is None or flow.request.method.upper() != "POST":
            return
        if "soapaction-mismatch" in note.notes:
            return  # client and Body disagree, and neither names a moved operation: the bus decides
        route = route_for(table, envelope.operation.service, envelope.operation.name, insensitive)
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
        translator = (note.translators or {}).get(route.translator_name)
        services = self.state.services
        envelope = note.inspection.envelope
        assert envelope is not None
        if translator is None or services is None:
            run = TranslationRun(route.translator_name, kind="translator-missing",
                                 error=f"no translator {route.translator_name!r} is loaded")
        else:
            refusal, authorise = establish(self.state, note, envelope, route.key)
            run = await run_translation(translator, envelope, services, route.timeout,
                                        refusal=refusal, authorise=authorise)
        note.translation = run
        stats = self.state.stats
        if run.kind == "identity.refused":
            stats.count("identity.refused")
        if run.reply is not None:
            stats.count("translator.ok")
            note.outcome = "translated"
            flow.response = answer(
                ProxyAnswer(run.reply.status, run.reply.content_type, run.reply.body), flow.request.method
            )
            return
        stats.count(f"translator.{run.kind}")
        log.warning("%s: translator failed (%s): %s", route.key, run.kind, loggable(run.error))
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
