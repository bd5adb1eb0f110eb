"""Running one translator for one request: to_call, the HTTP call, to_reply, within a timeout.

A fan-out translator (`to_calls`) gets its calls made at once, each within its own timeout;
an optional call that fails reaches `to_replies` as a `NoAnswer`, a required one fails the run.

Plain asyncio, no mitmproxy: the router and the shadow runner both use it. Every way this can
fail ends as a `TranslationRun` with `reply=None` and a `kind`; nothing raises, because the caller
must decide explicitly (fall back to the bus, or a Fault), never mitmproxy's default of
forwarding the request when a hook raises.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..soap import Envelope
from ..translators import (
    Answered,
    JsonCall,
    JsonCalls,
    JsonReply,
    NamedCall,
    NoAnswer,
    RequestRejected,
    SoapReply,
    TranslationError,
    Translator,
    fans_out,
    reply_document,
)
from ._services import ServiceClients, ServiceError
from ._state import is_power_of_ten

log = logging.getLogger("turnout.proxy")


@dataclass
class TranslationRun:
    translator: str
    reply: SoapReply | None = None
    call: JsonCall | None = None
    json_reply: JsonReply | None = None
    #: ok | answered | rejected | translation-error | translator-crash | timeout | service.*
    kind: str = "ok"
    error: str | None = None
    #: False only when the service certainly did not receive the call (a write is then safe)
    may_have_acted: bool = False
    dry_run: bool = False
    ms: float = 0.0
    #: of `ms`, the time spent waiting on the modern service's answer (None: no call was made)
    service_ms: float | None = None
    #: when the service call began (`time.perf_counter`), for its span; None: no call was made
    called: float | None = None
    #: the translator's `version` (a hash of its files), None when no translator ran
    translator_version: str | None = None
    #: a fan-out translator's calls, and each one's reply or NoAnswer by name (else None)
    calls: JsonCalls | None = None
    replies: dict[str, JsonReply | NoAnswer] | None = None

    @property
    def ok(self) -> bool:
        return self.reply is not None

    def record(self) -> dict[str, Any]:
        """What goes into `Exchange.translation` (redacted by the recorder before writing)."""
        doc: dict[str, Any] = {"translator": self.translator,
                               "translator_version": self.translator_version,
                               "kind": self.kind, "ms": round(self.ms, 3)}
        if self.dry_run:
            doc["dry_run"] = True
        if self.call is not None:
            doc["call"] = {
                "service": self.call.service, "method": self.call.method, "path": self.call.path,
                "query": dict(self.call.query), "body": self.call.body,
            }
        if self.json_reply is not None:
            doc["reply"] = {"status": self.json_reply.status, "body": self.json_reply.body}
        if self.calls is not None:
            doc["calls"] = {named.name: _named_call_document(named) for named in self.calls.calls}
        if self.replies is not None:
            doc["replies"] = {name: reply_document(reply) for name, reply in self.replies.items()}
        if self.error:
            doc["error"] = self.error
        return doc


async def run_translation(
    translator: Translator,
    envelope: Envelope,
    clients: ServiceClients,
    timeout: float,
    dry_run: bool = False,
    offload: bool = False,
    refusal: JsonReply | None = None,
    authorise: Callable[[JsonCall], tuple[tuple[str, str], ...]] | None = None,
    trace: tuple[tuple[str, str], ...] = (),
) -> TranslationRun:
    """Run both halves and the call. With `offload`, the halves run on a worker thread (lxml
    parses and serialises there without the interpreter lock): the shadow runner's choice, so a
    large shadowed envelope never stalls the loop that serves clients.

    `refusal`: the caller has no valid identity or role (`turnout.gateway.Gatekeeper`); the
    service is never called, and the reply half words this answer (a 401 or 403 as the service
    would give it) as the bus words its refusal. `authorise`: headers for each call (the
    caller's identity token), added after the request half and never recorded. `trace`: the
    request's `X-Request-Id` and `traceparent` (`_trace_context.outbound`), added likewise."""
    run = TranslationRun(translator.name, dry_run=dry_run,
                         translator_version=getattr(translator, "version", None))
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):  # in this task: a third of wait_for's cost
            if refusal is not None:
                await _refuse(translator, envelope, run, refusal)
            else:
                await _run(translator, envelope, clients, timeout, run, offload, authorise, trace)
    except TimeoutError:
        if run.calls is not None and run.replies is None:
            run.kind, run.error = "service.timeout", f"the calls did not all end within {timeout:g} s"
        elif run.call is not None and run.json_reply is None:
            # The call's own timeout and this one race; either way the service did not answer.
            run.kind, run.error = "service.timeout", f"{run.call.service} did not answer within {timeout:g} s"
        else:
            run.kind, run.error = "timeout", f"translator took longer than {timeout:g} s"
        run.may_have_acted = run.call is not None or run.calls is not None
        run.reply = None
    run.ms = (time.perf_counter() - started) * 1000
    return run


async def _run(
    translator: Translator, envelope: Envelope, clients: ServiceClients, timeout: float,
    run: TranslationRun, offload: bool = False,
    authorise: Callable[[JsonCall], tuple[tuple[str, str], ...]] | None = None,
    trace: tuple[tuple[str, str], ...] = (),
) -> None:
    if fans_out(translator):
        await _fan_out(translator, envelope, clients, timeout, run, offload, authorise, trace)
        return
    call = await _request_half(translator, translator.to_call, "to_call", envelope, run, offload)
    if call is None:
        return
    run.call = call
    call = _with_headers(call, authorise, trace)
    run.called = called = time.perf_counter()
    try:
        json_reply = await clients.call(call, timeout)
    except ServiceError as exc:
        run.kind, run.error, run.may_have_acted = exc.kind, str(exc), exc.may_have_acted
        return
    finally:
        run.service_ms = (time.perf_counter() - called) * 1000
    run.json_reply = json_reply
    if json_reply.status >= 500:
        # The service failed. A mapping may know how to word that as the bus would (SYSERR),
        # but it is still a failure of the new path: the route's on_error decides, so a read
        # falls back to the bus and a write answers the proxy's Fault.
        run.kind, run.error = "service.error", f"{call.service} answered HTTP {json_reply.status}"
        run.may_have_acted = True
        return
    run.may_have_acted = True
    await _reply_half(translator, translator.to_reply, "to_reply", json_reply, envelope, run, offload)


def _with_headers(call: JsonCall, authorise: Callable[[JsonCall], tuple[tuple[str, str], ...]] | None,
                  trace: tuple[tuple[str, str], ...]) -> JsonCall:
    """The call as sent: the caller's identity token and the trace headers added (after the
    call was recorded, so neither is ever written to disk)."""
    if authorise is not None:
        return replace(call, headers=(*call.headers, *authorise(call), *trace))
    if trace:
        return replace(call, headers=(*call.headers, *trace))
    return call


async def _request_half(translator: Any, half: Callable[..., Any], name: str, envelope: Envelope,
                        run: TranslationRun, offload: bool) -> Any | None:
    """The request half (`to_call` or `to_calls`): what it returns, or None when it answered
    without a call or failed (`run` then says which)."""
    try:
        if offload:
            return await asyncio.to_thread(half, envelope, dry_run=run.dry_run)
        return half(envelope, dry_run=run.dry_run)
    except (Answered, RequestRejected) as exc:
        if exc.reply is not None:  # what the bus would answer, known without a call
            run.kind, run.reply = ("answered" if isinstance(exc, Answered) else "rejected"), exc.reply
        else:
            run.kind, run.error = "translation-error", str(exc)
    except TranslationError as exc:
        run.kind, run.error = "translation-error", str(exc)
    except Exception as exc:  # noqa: BLE001 - a translator bug must end in on_error, not a 502
        _log_crash(translator.name, name)
        run.kind, run.error = "translator-crash", f"{type(exc).__name__} in {name}"
    return None


async def _reply_half(translator: Any, half: Callable[..., Any], name: str, replies: Any,
                      envelope: Envelope, run: TranslationRun, offload: bool) -> None:
    """The reply half (`to_reply` or `to_replies`) into `run.reply`, or why it failed."""
    try:
        if offload:
            run.reply = await asyncio.to_thread(half, replies, envelope)
        else:
            run.reply = half(replies, envelope)
    except TranslationError as exc:
        run.kind, run.error = "translation-error", str(exc)
    except Exception as exc:  # noqa: BLE001
        _log_crash(translator.name, name)
        run.kind, run.error = "translator-crash", f"{type(exc).__name__} in {name}"


def _named_call_document(named: NamedCall) -> dict[str, Any]:
    call = named.call
    doc: dict[str, Any] = {"service": call.service, "method": call.method, "path": call.path,
                           "query": dict(call.query), "body": call.body}
    if named.timeout is not None:
        doc["timeout"] = named.timeout
    if named.optional:
        doc["optional"] = True
    return doc


async def _fan_out(
    translator: Any, envelope: Envelope, clients: ServiceClients, timeout: float,
    run: TranslationRun, offload: bool,
    authorise: Callable[[JsonCall], tuple[tuple[str, str], ...]] | None,
    trace: tuple[tuple[str, str], ...],
) -> None:
    """`to_calls`, every call at once (each within its own timeout), then `to_replies`."""
    calls = await _request_half(translator, translator.to_calls, "to_calls", envelope, run, offload)
    if calls is None:
        return
    run.calls = calls
    run.called = called = time.perf_counter()
    try:
        answers = await asyncio.gather(*(
            _one_of_several(named, clients, timeout, authorise, trace) for named in calls.calls
        ))
    finally:
        run.service_ms = (time.perf_counter() - called) * 1000
    run.may_have_acted = any(acted for _, acted, _ in answers)
    replies: dict[str, JsonReply | NoAnswer] = {}
    for named, (answer, _, required_failure) in zip(calls.calls, answers, strict=True):
        replies[named.name] = answer
        if required_failure and run.error is None:
            assert isinstance(answer, NoAnswer)
            run.kind, run.error = answer.kind, f"{named.name}: {answer.error}"
    run.replies = replies
    if run.error is not None:
        return
    await _reply_half(translator, translator.to_replies, "to_replies", replies, envelope, run, offload)


async def _one_of_several(
    named: NamedCall, clients: ServiceClients, timeout: float,
    authorise: Callable[[JsonCall], tuple[tuple[str, str], ...]] | None,
    trace: tuple[tuple[str, str], ...],
) -> tuple[JsonReply | NoAnswer, bool, bool]:
    """One call of a fan-out: (its reply or NoAnswer, may it have acted, did a required call
    fail). A 5xx is a NoAnswer too: the service failed, as a timeout is a failure."""
    call = named.call
    call = _with_headers(call, authorise, trace)
    limit = timeout if named.timeout is None else min(named.timeout, timeout)
    try:
        async with asyncio.timeout(limit):
            reply = await clients.call(call, limit)
    except TimeoutError:
        return (NoAnswer("service.timeout", f"{call.service} did not answer within {limit:g} s"),
                True, not named.optional)
    except ServiceError as exc:
        return NoAnswer(exc.kind, str(exc)), exc.may_have_acted, not named.optional
    if reply.status >= 500:
        return (NoAnswer("service.error", f"{call.service} answered HTTP {reply.status}"),
                True, not named.optional)
    return reply, True, False


async def _refuse(translator: Translator, envelope: Envelope, run: TranslationRun, refusal: JsonReply) -> None:
    """No identity, or no role: the reply half words the refusal; nothing is called."""
    run.kind = "identity.refused"
    run.json_reply = refusal
    try:
        run.reply = translator.to_reply(refusal, envelope)
    except TranslationError as exc:
        run.kind, run.error = "translation-error", str(exc)
    except Exception as exc:  # noqa: BLE001
        _log_crash(translator.name, "to_reply")
        run.kind, run.error = "translator-crash", f"{type(exc).__name__} in to_reply"


#: crashes so far per (translator, half), in this process
_crashes: Counter[tuple[str, str]] = Counter()


#: a quoted value in a message, as `repr` or a template writes it ('...' or "...")
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")


def loggable(message: str | None) -> str:
    """`message` for the proxy's log, its quoted values shown as '…': a translator's error
    quotes the request (`dateOfBirth '14/03/1961' is not a date`), and the log is not redacted.
    The recording keeps the message, with the values its rules hide hidden by value."""
    return _QUOTED.sub("'…'", message or "")


def _log_crash(name: str, half: str) -> None:
    """The first crash with where it happened; then 10, 100... with the count. Every crash is
    counted and recorded anyway; a traceback per request would cost the proxy's loop (and so
    every client) more than the translation, and bury the logs. The exception's message is
    left out (`KeyError: 'Thistlewood'`): it may quote the request, and the log is not
    redacted; the frames (files, lines, code) are kept."""
    _crashes[name, half] += 1
    n = _crashes[name, half]
    if n == 1:
        exc = sys.exc_info()[1]
        frames = traceback.format_list(traceback.extract_tb(exc.__traceback__)) if exc else []
        log.error("translator %s crashed in %s: %s (its message is not logged: it may quote the "
                  "request)\nTraceback (most recent call last):\n%s", name, half,
                  type(exc).__name__ if exc else "?", "".join(frames).rstrip())
    elif is_power_of_ten(n):
        log.error("translator %s crashed in %s %d times so far", name, half, n)
