"""The request pipeline, step by step: guard, name, keep moved operations off the bus, route,
then one strategy per mode. Plain request and response values in, an answer out; no HTTP server.

A host (the mitmproxy adapter, the fast asyncio host) turns what it received into an
`HttpRequest`, awaits `Gateway.handle`, sends the `Handled` answer it gets back (whole, or
streamed when too large to hold), and calls `Gateway.finish` once the client has it (or
`Gateway.unanswered` when there is nothing to send). Every decision is a value returned by a
step: no flag set in one place and read in another can let a request reach the bus half-decided.

    handle:  guard      read once, name the operation; threats answered here   (_inspect, _reading)
             safety     what could make the bus run a moved operation: refused  (_safety)
             route      the route in force; a canary share resolved per caller  (routing)
             strategy   legacy | translator | shadow (legacy, diffed later)     (_strategies)
    finish:  counters, audit line, recording and shadow hand-off                (_handoff)
"""

from __future__ import annotations

import asyncio
import logging

from ..audit import Audit, request_id_for
from ..config import ProxyConfig, clear_request_ids, set_request_ids
from ..routing import Route, RouteTable, caller_id, choose_canary
from ..soap import Fault, HttpRequest, headers_dict, version_for_content_type
from . import _handoff, _strategies
from ._answers import Handled, answer_of, fault_of
from ._inspect import Inspection, inspect_request
from ._outcomes import Mode, Outcome
from ._safety import bus_refusal, route_for
from ._state import Peer, ProxyState, RequestNote, is_power_of_ten
from ._trace_context import is_sampled, new_span_id, new_trace_id, parse_traceparent

log = logging.getLogger("turnout.proxy")

#: how long a request accepted while the gateway is still starting waits for it
_START_WAIT_SECONDS = 10.0

#: each word to its member, looked up without an Enum call (two Python calls) per request
_OUTCOMES = {outcome.value: outcome for outcome in Outcome}
_MODES = {mode.value: mode for mode in Mode}

class Gateway:
    """One per running proxy: the steps, and the state they share (`state`)."""

    def __init__(self, state: ProxyState) -> None:
        self.state = state
        #: the access audit trail (None: no `audit:` section), opened by `prepare`
        self.audit: Audit | None = None
        #: shadow jobs the queue had no room for, for logging at 1, 10, 100...
        self.shadow_dropped = 0

    @property
    def config(self) -> ProxyConfig:
        config = self.state.config
        assert config is not None, "the gateway runs only with a configuration"
        return config

    async def handle(self, request: HttpRequest, peer: Peer) -> Handled:
        """The answer to `request`. Never raises: a bug in a step ends in a Fault, never in the
        host's default (mitmproxy's is to forward the request to the bus)."""
        note = self.guard(request, peer)
        if note.inspection.answer is not None:
            return Handled(note, answer_of(note.inspection.answer, request.method))
        try:
            if self.state.bus is None:
                # accepted before `start` ran (mitmproxy listens from an earlier addon's hook):
                # wait for it, bounded, rather than answer a Fault for a proxy still starting
                async with asyncio.timeout(_START_WAIT_SECONDS):
                    await self.state.started.wait()
            return await self._serve(note, request.method)
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("the gateway failed on %s", note.inspection.operation or request.path)
            note.outcome = Outcome.TRANSLATOR_FAULT if note.route is not Mode.LEGACY else Outcome.UPSTREAM_ERROR
            note.notes.append("internal")
            return Handled(note, fault_of(note, "internal", "the proxy could not answer this request",
                                          method=request.method))

    def guard(self, request: HttpRequest, peer: Peer) -> RequestNote:
        """Step 1: read the request once, name its operation, and answer threats."""
        config = self.config
        inspection = inspect_request(
            request, config.limits,
            reject_unreadable=config.reject_unreadable,
            reject_mismatch=config.soapaction_mismatch == "reject",
            case_insensitive_paths=config.upstream_path_case_insensitive,
        )
        if inspection.target is not None:
            # What the bus executes is the normalised target: the bus gets it, the recording
            # is keyed by it, the route is chosen by it.
            request.path = inspection.target.request_target
        read = inspection.read
        note = RequestNote(inspection=inspection, request=request, outcome=_OUTCOMES[inspection.outcome],
                           notes=list(inspection.notes), peer=peer,
                           request_id=request_id_for(read.headers if read is not None else request.headers))
        self.trace(note, read.headers.get("traceparent") if read is not None else request.header("traceparent"))
        stats = self.state.stats
        stats.count("requests")
        if "soapaction-mismatch" in inspection.notes:
            stats.count("soapaction-mismatch")
            log.warning("SOAPAction %r disagrees with the Body (%s) from %s",
                        inspection.action, inspection.operation, peer)
        if inspection.answer is not None:
            log.warning("answered %s request from %s itself: %s", inspection.outcome, peer, inspection.notes)
        return note

    def trace(self, note: RequestNote, given: str | None) -> None:
        """The request's place in a W3C trace: the client's trace, or a new one (an invalid
        `traceparent` is dropped), and a span of the proxy's own. From here until the request
        is finished, every line logged in this task names its request and trace ids."""
        parsed = parse_traceparent(given)
        if parsed is not None:
            note.trace_id, note.parent_span_id, flags = parsed
            note.trace_flags = "01" if is_sampled(flags) else "00"  # the one flag of version 00
        else:
            if given is not None:
                self.state.stats.count("traceparent.invalid")
            note.trace_id = new_trace_id()
            spans = self.state.spans
            note.trace_flags = "01" if spans is not None and spans.samples(note.trace_id) else "00"
        note.span_id = new_span_id()
        set_request_ids(note.request_id, note.trace_id)

    async def _serve(self, note: RequestNote, method: str) -> Handled:
        # This request keeps this route table and its translators, whatever reloads later.
        served = self.state.routes.served()
        note.translators = served.translators
        refusal = self.safety(note, served.table, method)
        if refusal is not None:
            return Handled(note, fault_of(note, refusal.kind, refusal.reason, refusal.sender, method))
        route = self.route(note, served.table, method)
        if route is None or note.route in (Mode.LEGACY, Mode.SHADOW):
            note.shadowed = note.route is Mode.SHADOW
            return await _strategies.legacy(self, note)
        return await _strategies.translator(self, note, route)

    def safety(self, note: RequestNote, table: RouteTable, method: str) -> Fault | None:
        """Step 2: what could make the bus run an operation moved off it is refused."""
        read = note.inspection.read
        if read is None:
            return None
        insensitive = self.config.upstream_path_case_insensitive
        try:
            refusal = bus_refusal(read, table, method, insensitive)
        except Exception:  # noqa: BLE001 - a bug here must not let the request reach the bus
            log.exception("the bus-safety check failed on %s", read.service)
            refusal = Fault("the proxy could not decide where this request may go",
                            sender=False, kind="routing.internal")
        if refusal is not None:
            note.outcome = Outcome.REJECTED
            note.notes.append(f"refused:{refusal.kind}")
            self.state.stats.count(f"refused.{refusal.kind}")
            log.warning("%s %s refused: %s", method, read.service, refusal.reason)
        return refusal

    def route(self, note: RequestNote, table: RouteTable, method: str) -> Route | None:
        """Step 3: the route in force for the operation; None when the request is not a POSTed
        envelope, or SOAPAction and Body disagree (neither names a moved operation: only the
        bus may decide what it means). Sets `note.route` to the mode this request gets, a
        canary resolved to translator or legacy for this caller."""
        envelope = note.inspection.envelope
        if envelope is None or method.upper() != "POST" or "soapaction-mismatch" in note.notes:
            return None
        insensitive = self.config.upstream_path_case_insensitive
        route = route_for(table, envelope.operation.service, envelope.operation.name, insensitive)
        note.decided = route
        mode = _MODES[route.mode]
        if mode is Mode.CANARY:
            read = note.inspection.read
            headers = read.headers if read is not None else headers_dict(note.request.headers)
            who = caller_id(headers, note.peer.host, table.sticky_header)
            chosen = choose_canary(route, who, table.salt)
            note.notes.append("canary:translator" if chosen else "canary:legacy")
            if not chosen:
                return route  # the legacy share: recorded as route legacy, as before
        note.route = mode
        return route

    def finish(self, handled: Handled, status: int | None) -> None:
        """The client has its answer (`status`): count, audit, record, hand to the shadow."""
        try:
            _handoff.finish(self, handled.note, handled.response, status)
            self._spans(handled.note, status)
        finally:
            clear_request_ids()

    def unanswered(self, note: RequestNote | None, request: HttpRequest, peer: Peer, message: str,
                   too_large: bool = False) -> None:
        """The host could not answer (the client went away, or sent a body over the limit
        before the gateway saw it): still counted, audited and recorded."""
        if note is None:
            version = version_for_content_type(request.header("content-type"))
            note = RequestNote(inspection=Inspection(version), request=request, peer=peer)
            self.trace(note, request.header("traceparent"))
        if too_large:
            note.outcome = Outcome.REJECTED
            note.notes.append("threat:too-large")
        else:
            note.outcome = Outcome.CLIENT_ERROR
            note.notes.append(message)
        try:
            _handoff.finish(self, note, None, None)
            self._spans(note, None)
        finally:
            clear_request_ids()

    def streamed(self, handled: Handled, broken: str | None = None) -> None:
        """An answer too large to hold has been passed on (or broke off: `broken`)."""
        if broken is not None:
            handled.note.notes.append(f"stream broken: {broken}")
        head = handled.note.streamed
        status = head.status if head is not None else None
        try:
            _handoff.finish(self, handled.note, None, status)
            self._spans(handled.note, status)
        finally:
            clear_request_ids()

    def _spans(self, note: RequestNote, status: int | None) -> None:
        """The request's spans, when they are exported and its trace is sampled."""
        spans = self.state.spans
        if spans is None or note.trace_flags != "01" or not note.trace_id:
            return
        try:
            spans.request(note, note.request.method, status)
        except Exception:  # noqa: BLE001 - a bug in tracing must not fail the request's finish
            if is_power_of_ten(self.state.stats.count("tracing.failed")):
                log.exception("tracing: could not record the spans of request %s", note.request_id)
