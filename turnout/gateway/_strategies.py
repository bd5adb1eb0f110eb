"""One small strategy per mode, after the route is chosen: each returns the answer as a value.

- legacy (and shadow, whose bus answer is diffed later off the client's path): the bus answers
  through `BusClient`; a bus that cannot be reached becomes the caller's Fault, never an HTML
  page; an answer too large to hold is handed back to stream, never held.
- translator (and a canary's translator share): the caller's identity is established as the bus
  would, the translator runs within the route's timeout, and its failure ends in the route's
  `on_error`: back to the bus for a read, the gateway's Fault for a write that may have acted.
  `_fallback` is the one place a translated route may reach the bus.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..routing import Route
from ..soap import Envelope, HttpResponse
from ..translators import JsonCall, JsonReply
from ..transport import Streamed
from ._answers import Handled, answer_of, fault_of
from ._bus import UpstreamError
from ._framing import client_response
from ._identity import Refusal
from ._outcomes import Outcome
from ._state import RequestNote
from ._trace_context import outbound
from ._translate import TranslationRun, loggable, run_translation

if TYPE_CHECKING:
    from ._pipeline import Gateway

log = logging.getLogger("turnout.proxy")


async def legacy(gateway: Gateway, note: RequestNote) -> Handled:
    """The bus answers."""
    state, request = gateway.state, note.request
    assert request is not None and state.bus is not None
    method = request.method
    ids = outbound(note.request_id, note.trace_id, note.span_id, note.trace_flags)
    note.upstream_started = time.perf_counter()
    try:
        answer, upstream_ms = await state.bus.send(request, gateway.config.max_response_bytes, ids)
    except UpstreamError as exc:
        state.stats.count(exc.kind)
        log.error("%s: %s", note.inspection.operation or request.path, exc)
        note.outcome = Outcome.UPSTREAM_ERROR
        note.notes.append(exc.kind)
        return Handled(note, fault_of(note, exc.kind, str(exc), method=method))
    note.upstream_ms = upstream_ms
    if isinstance(answer, Streamed):
        # over limits.max_response_bytes: to the client as it arrives, recorded without its
        # body, never diffed
        state.stats.count("response.too-large")
        note.notes.append("response-not-held: over limits.max_response_bytes")
        note.streamed = HttpResponse(answer.head.status, answer.head.headers, b"", answer.head.reason)
        note.shadowed = False
        return Handled(note, stream=answer)
    return Handled(note, client_response(answer, method))


async def translator(gateway: Gateway, note: RequestNote, route: Route) -> Handled:
    """A translator answers, or the route's `on_error` decides."""
    state = gateway.state
    envelope = note.inspection.envelope
    assert envelope is not None and note.request is not None
    method = note.request.method
    found = (note.translators or {}).get(route.translator_name)
    if found is None or state.services is None:
        run = TranslationRun(route.translator_name, kind="translator-missing",
                             error=f"no translator {route.translator_name!r} is loaded")
    else:
        refusal, authorise = establish(gateway, note, envelope, route.key)
        read = note.inspection.read
        trace = outbound(note.request_id, note.trace_id, note.span_id, note.trace_flags,
                         read.headers if read is not None else None)
        run = await run_translation(found, envelope, state.services, route.timeout,
                                    refusal=refusal, authorise=authorise, trace=trace)
    note.translation = run
    stats = state.stats
    if run.kind == "identity.refused":
        stats.count("identity.refused")
    if run.reply is not None:
        stats.count("translator.ok")
        note.outcome = Outcome.TRANSLATED
        return Handled(note, answer_of(run.reply, method))
    stats.count(f"translator.{run.kind}")
    log.warning("%s: translator failed (%s): %s", route.key, run.kind, loggable(run.error))
    if route.on_error == "legacy" and not (route.writes and run.may_have_acted):
        return await _fallback(gateway, note, run)
    note.outcome = Outcome.TRANSLATOR_FAULT
    return Handled(note, fault_of(note, f"translator.{run.kind}",
                                  f"the {route.translator_name} translator failed: {run.error}", method=method))


async def _fallback(gateway: Gateway, note: RequestNote, run: TranslationRun) -> Handled:
    """The one place a translated route reaches the bus: a read (or a write the service
    certainly never received) whose translator failed, under `on_error: legacy`."""
    handled = await legacy(gateway, note)
    if note.outcome is Outcome.FORWARDED:
        note.outcome = Outcome.FALLBACK
    note.notes.append(f"fallback:{run.kind}")
    return handled


def establish(
    gateway: Gateway, note: RequestNote, envelope: Envelope, operation_key: str
) -> tuple[JsonReply | None, Callable[[JsonCall], tuple[tuple[str, str], ...]] | None]:
    """Who is calling, as the bus would establish it (when `identity:` is configured): the
    refusal the translator words instead of calling, or the token each call carries."""
    gatekeeper = gateway.state.gatekeeper
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
