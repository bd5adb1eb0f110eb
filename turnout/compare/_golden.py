"""Golden checks: does a translator still do, offline, what a shadow recording says it did?

A recording made in shadow mode holds the client's request, the legacy bus's answer, and the
translator's JSON call and the service's JSON reply. Both halves of the translator are pure, so
the recording alone is a test case:

- the request half, given the recorded request, must produce the recorded JSON call (method,
  path, query, body; JSON values compared exactly: `1`, `1.0`, `"1"` and `true` all differ);
- the response half, given the recorded JSON reply, must produce the legacy answer, under the
  operation's compare rules.

After a deliberate change, `accept_golden` makes the new behaviour the expected one: the call
becomes what the request half produces now, and the envelope the response half produces is
written to the recording's `translated` message, with `translation.golden: translated` saying
that from then on `translated`, not the legacy `response`, is what the response half must
produce. `rewrite_recording` writes the result back in the recording format, atomically.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from turnout.config import write_atomically
from turnout.recording import Exchange, RecordingError, dumps
from turnout.soap import Envelope, HttpResponse, SoapError, headers_dict, read_message
from turnout.translators import (
    FanOutTranslator,
    JsonCall,
    JsonReply,
    SoapReply,
    TranslationError,
    Translator,
    TranslatorSet,
    Volatiles,
    reply_from_document,
)

from ._diff import diff
from ._model import Diff
from ._rules import Rules, rules_for

#: `translation.golden`: the response half is held to `translated` (accepted), not `response`
GOLDEN_KEY = "golden"
ACCEPTED = "translated"
#: the fields of a recorded JSON call, in the order the proxy writes them
CALL_FIELDS = ("service", "method", "path", "query", "body")
#: how many differences a failure text lists before saying how many more there are
SHOWN = 20
_MESSAGE_IDS = uuid.UUID("6f1d3c52-7a1e-4c2b-9d0e-5b8a4f2e7c10")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class GoldenError(Exception):
    """The check cannot run (no translator for the operation) or a result cannot be accepted."""


class NotGolden(GoldenError):
    """The exchange is not a golden case: plain legacy traffic, a failed shadow run, a body
    that redaction left out. `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Absent:
    """A JSON value that is not there at all (not even null)."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class CallDifference:
    """One field of the JSON call that differs: `field` is `method`, `query.page`,
    `body.address.lines[1]`...; `recorded` or `produced` is `ABSENT` when only the other has it."""

    field: str
    recorded: Any
    produced: Any


@dataclass
class GoldenResult:
    """What one golden check found. `passed` when both halves did what the recording says."""

    exchange_id: str
    operation: str
    #: "legacy": the response half is held to the bus's answer; "accepted": to `translated`
    expected: str
    call_differences: list[CallDifference] = field(default_factory=list)
    #: the request half did something else altogether (raised, or called where it did not)
    call_problem: str | None = None
    #: the response half raised, or the expected side could not be read
    reply_problem: str | None = None
    #: (expected, produced) HTTP status, when they differ
    status: tuple[int, int] | None = None
    envelope: Diff | None = None
    produced_call: JsonCall | None = None
    #: a fan-out translator's calls as produced, each as the recording holds it, by name
    produced_calls: dict[str, dict[str, Any]] | None = None
    produced_reply: SoapReply | None = None

    @property
    def request_passed(self) -> bool:
        return self.call_problem is None and not self.call_differences

    @property
    def response_passed(self) -> bool:
        return (
            self.reply_problem is None and self.status is None
            and (self.envelope is None or self.envelope.equal)
        )

    @property
    def passed(self) -> bool:
        return self.request_passed and self.response_passed

    def text(self) -> str:
        """The failure for people: call fields and XML differences with both values, no reprs
        of objects. Values may be personal data, as in the recording they come from."""
        lines: list[str] = []
        if self.call_problem is not None:
            lines += ["request half: " + self.call_problem]
        elif self.call_differences:
            lines.append("request half: the JSON call differs from the recorded one")
            for item in self.call_differences[:SHOWN]:
                lines.append(f"  {item.field}")
                lines.append(f"    recorded: {_json_text(item.recorded)}")
                lines.append(f"    now:      {_json_text(item.produced)}")
            lines += _more(len(self.call_differences))
        against = (
            "the legacy response" if self.expected == "legacy"
            else "the accepted envelope (translated, from --turnout-update)"
        )
        label = "legacy:  " if self.expected == "legacy" else "accepted:"
        if self.reply_problem is not None:
            lines.append("response half: " + self.reply_problem)
        if self.status is not None:
            lines.append(
                f"response half: HTTP status {self.status[1]}, but {against} has {self.status[0]}"
            )
        if self.envelope is not None and not self.envelope.equal:
            lines.append(
                f"response half: the envelope differs from {against} "
                f"(compare rules of {self.operation})"
            )
            for found in self.envelope.differences[:SHOWN]:
                lines.append(f"  {found.kind:<9} {found.path}")
                lines.append(f"    {label} {_xml_text(found.legacy)}")
                lines.append(f"    new:      {_xml_text(found.new)}")
            lines += _more(len(self.envelope.differences))
            if self.envelope.namespaces:
                declared = ", ".join(f"{p}={u}" for p, u in sorted(self.envelope.namespaces.items()))
                lines.append(f"  (prefixes: {declared})")
        return "\n".join(lines) if lines else "passed"


def golden_volatiles(exchange: Exchange) -> Volatiles:
    """The clock and message ids a golden check runs a translator with: fixed per exchange, so
    a check gives the same bytes every run. The clock reads the moment the exchange was
    recorded; the message id is derived from the exchange id."""
    moment = exchange.started_at
    message_id = str(uuid.uuid5(_MESSAGE_IDS, exchange.id))
    return Volatiles(clock=lambda: moment, message_id=lambda: message_id)


def not_golden_reason(exchange: Exchange) -> str | None:
    """Why `exchange` cannot be checked as a golden case, or None when it can."""
    translation = exchange.translation
    if exchange.operation is None:
        return f"no operation ({exchange.outcome}): nothing to translate"
    if not translation:
        return f"no translation recorded ({exchange.route} route): record in shadow mode"
    if "request" in exchange.omitted_bodies:
        return "the request body was not stored (redaction could not read it)"
    accepted = translation.get(GOLDEN_KEY) == ACCEPTED
    if accepted:
        if exchange.translated is None or "translated" in exchange.omitted_bodies:
            return f"translation.{GOLDEN_KEY} says {ACCEPTED}, but no translated body is stored"
    else:
        if exchange.route != "shadow":
            return f"recorded on the {exchange.route} route: the legacy answer is not in it"
        if exchange.outcome != "forwarded":
            return f"the bus did not answer it ({exchange.outcome})"
        if exchange.response is None or "response" in exchange.omitted_bodies:
            return "no legacy response body stored"
    kind = translation.get("kind")
    if "reply" not in translation and "replies" not in translation and kind not in (
            "answered", "rejected"):
        return f"the translator failed when this was recorded ({kind}): nothing to hold it to"
    return None


def check_golden(
    exchange: Exchange, translators: TranslatorSet, rules: Mapping[str, Rules]
) -> GoldenResult:
    """Run both halves of the exchange's translator against what the exchange recorded.

    Raises `NotGolden` when the exchange is not a golden case (see `not_golden_reason`) and
    `GoldenError` when no translator is loaded for its operation. A translator that crashes
    (anything but a `TranslationError`) propagates: its traceback is what its author needs.
    """
    reason = not_golden_reason(exchange)
    if reason is not None:
        raise NotGolden(reason)
    assert exchange.operation is not None
    key = exchange.operation.key
    translator = translators.for_operation(key)
    if translator is None:
        raise GoldenError(f"no translator for {key} among the {len(translators)} loaded")
    if hasattr(translator, "with_volatiles"):
        translator = translator.with_volatiles(golden_volatiles(exchange))
    translation = exchange.translation
    accepted = translation.get(GOLDEN_KEY) == ACCEPTED
    result = GoldenResult(exchange.id, key, "accepted" if accepted else "legacy")
    request = exchange.request
    try:
        envelope = read_message(request.body, request.path, headers_dict(request.headers))
    except SoapError as exc:
        raise NotGolden(f"the recorded request is not a readable envelope: {exc}") from None

    # A caller refused on the translator path (identity.refused) never reached the request
    # half: the proxy handed the reply half the service's 401/403. Only that half is the
    # translator's, and it must word the refusal as the bus did.
    refused = translation.get("kind") == "identity.refused"
    several = isinstance(translator, FanOutTranslator) and not refused
    if refused:
        early = None
    elif isinstance(translator, FanOutTranslator):
        early = _request_halves(translator, envelope, translation, result)
    else:
        early = _request_half(translator, envelope, translation, result)
    if isinstance(translator, FanOutTranslator) and several and isinstance(
            translation.get("replies"), Mapping):
        replies = {str(name): reply_from_document(doc) for name, doc
                   in translation["replies"].items() if isinstance(doc, Mapping)}
        try:
            result.produced_reply = translator.to_replies(replies, envelope)
        except TranslationError as exc:
            result.reply_problem = f"to_replies raised {type(exc).__name__}: {exc}"
    elif "reply" in translation:
        recorded = translation["reply"]
        reply = JsonReply(status=int(recorded.get("status", 0)), body=recorded.get("body"))
        try:
            result.produced_reply = translator.to_reply(reply, envelope)
        except TranslationError as exc:
            result.reply_problem = f"to_reply raised {type(exc).__name__}: {exc}"
    elif early is not None:
        result.produced_reply = early  # the translator answers this request itself
    elif result.call_problem is None:
        result.reply_problem = "nothing to compare: no reply recorded and no answer produced"

    if result.produced_reply is not None:
        _response_half(exchange, result.produced_reply, rules_for(rules, key), accepted, result)
    return result


def _request_half(
    translator: Translator, envelope: Envelope, translation: Mapping[str, Any],
    result: GoldenResult,
) -> SoapReply | None:
    """Compare the call; return the answer the translator gave without calling, if it did."""
    recorded = translation.get("call")
    kind = translation.get("kind")
    try:
        call = translator.to_call(envelope, dry_run=bool(translation.get("dry_run", False)))
    except TranslationError as exc:
        if exc.reply is None:
            result.call_problem = f"to_call raised {type(exc).__name__}: {exc}"
            return None
        if recorded is not None:
            result.call_problem = (
                f"the recording has a JSON call ({recorded.get('method')} "
                f"{recorded.get('path')}), but to_call now answers without one "
                f"({type(exc).__name__}: {exc})"
            )
        return exc.reply
    result.produced_call = call
    if recorded is None:
        result.call_problem = (
            f"the recording has no JSON call (the translator answered itself: {kind}), but "
            f"to_call now calls {call.method} {call.path}; re-record this exchange"
        )
        return None
    result.call_differences = call_differences(recorded, call_document(call))
    return None


def _request_halves(
    translator: FanOutTranslator, envelope: Envelope, translation: Mapping[str, Any],
    result: GoldenResult,
) -> SoapReply | None:
    """`_request_half` for a fan-out translator: every call compared with the recorded one of
    its name (`calls.<name>.query.surname`)."""
    recorded = translation.get("calls")
    try:
        calls = translator.to_calls(envelope, dry_run=bool(translation.get("dry_run", False)))
    except TranslationError as exc:
        if exc.reply is None:
            result.call_problem = f"to_calls raised {type(exc).__name__}: {exc}"
            return None
        if recorded is not None:
            result.call_problem = (f"the recording has JSON calls, but to_calls now answers "
                                   f"without them ({type(exc).__name__}: {exc})")
        return exc.reply
    produced = {named.name: call_document(named.call) for named in calls.calls}
    result.produced_calls = produced
    if not isinstance(recorded, Mapping):
        result.call_problem = (f"the recording has no JSON calls ({translation.get('kind')}), "
                               f"but to_calls now makes {len(produced)}; re-record this exchange")
        return None
    for name in (*recorded, *(n for n in produced if n not in recorded)):
        mine, theirs = recorded.get(name), produced.get(name)
        if not isinstance(mine, Mapping) or theirs is None:
            result.call_differences.append(CallDifference(
                f"calls.{name}", ABSENT if mine is None else mine, ABSENT if theirs is None else theirs))
            continue
        result.call_differences += [CallDifference(f"calls.{name}.{d.field}", d.recorded, d.produced)
                                    for d in call_differences(mine, theirs)]
    return None


def _response_half(
    exchange: Exchange, produced: SoapReply, rules: Rules, accepted: bool, result: GoldenResult
) -> None:
    expected = exchange.translated if accepted else exchange.response
    assert expected is not None
    if expected.status != produced.status:
        result.status = (expected.status, produced.status)
    try:
        result.envelope = diff(expected.body, produced.body, rules)
    except SoapError as exc:
        side = "accepted" if accepted else "legacy"
        result.reply_problem = f"cannot compare with the {side} body: {exc}"


def call_document(call: JsonCall) -> dict[str, Any]:
    """A call as the recording holds it (`Exchange.translation["call"]`), plain JSON values."""
    body = json.loads(json.dumps(call.body)) if call.body is not None else None
    return {
        "service": call.service, "method": call.method, "path": call.path,
        "query": dict(call.query), "body": body,
    }


def call_differences(recorded: Mapping[str, Any], produced: Mapping[str, Any]) -> list[CallDifference]:
    """Field by field, exactly: a JSON value equals only a value of the same type."""
    found: list[CallDifference] = []
    for name in CALL_FIELDS:
        _json_diff(recorded.get(name, ABSENT), produced.get(name, ABSENT), name, found)
    return found


def _json_diff(recorded: Any, produced: Any, where: str, found: list[CallDifference]) -> None:
    if isinstance(recorded, dict) and isinstance(produced, dict):
        for key in recorded:
            _json_diff(recorded[key], produced.get(key, ABSENT), _step(where, key), found)
        for key in produced:
            if key not in recorded:
                found.append(CallDifference(_step(where, key), ABSENT, produced[key]))
        return
    if isinstance(recorded, list) and isinstance(produced, list):
        for index in range(max(len(recorded), len(produced))):
            _json_diff(
                recorded[index] if index < len(recorded) else ABSENT,
                produced[index] if index < len(produced) else ABSENT,
                f"{where}[{index}]", found,
            )
        return
    if not _same(recorded, produced):
        found.append(CallDifference(where, recorded, produced))


def _same(a: Any, b: Any) -> bool:
    """JSON equality without Python's `1 == 1.0 == True`."""
    return type(a) is type(b) and a == b


def _step(where: str, key: Any) -> str:
    text = str(key)
    return f"{where}.{text}" if _KEY.fullmatch(text) else f"{where}[{json.dumps(text)}]"


def accept_golden(exchange: Exchange, result: GoldenResult) -> Exchange:
    """`exchange` with what `result` produced as its expected side; other fields untouched.

    The request half's call replaces `translation.call` (when it differed); the response
    half's envelope becomes `translated`, and `translation.golden: translated` (when it
    differed from the expected side). The recorded request, legacy response and JSON reply
    are inputs and are never changed. Raises `GoldenError` when there is nothing sound to
    accept: a half raised, or the call appeared or vanished (re-record such an exchange).
    """
    if result.call_problem is not None or result.reply_problem is not None:
        raise GoldenError(
            "cannot accept: " + (result.call_problem or result.reply_problem or "")
            + " (fix the translator or re-record the exchange)"
        )
    updated = copy.deepcopy(exchange)
    translation = updated.translation
    if result.call_differences and result.produced_calls is not None:
        recorded_calls = translation["calls"]
        translation["calls"] = {
            name: {**{k: v for k, v in recorded_calls.get(name, {}).items() if k not in produced},
                   **produced}
            for name, produced in result.produced_calls.items()
        }
    if result.call_differences and result.produced_call is not None:
        recorded = translation["call"]
        produced = call_document(result.produced_call)
        translation["call"] = {name: produced[name] for name in (*recorded, *produced)
                               if name in produced}
    if not result.response_passed and result.produced_reply is not None:
        reply = result.produced_reply
        before = updated.translated
        updated.translated = HttpResponse(
            status=reply.status,
            headers=_with_content_type(before.headers if before else [], reply.content_type),
            body=reply.body, reason=before.reason if before else "",
        )
        updated.omitted_bodies.pop("translated", None)
        translation[GOLDEN_KEY] = ACCEPTED
    return updated


def merge_rule_tables(*tables: Mapping[str, Rules]) -> dict[str, Rules]:
    """Rule tables from several files as one, each file's rules added to the ones before:
    an operation gets every file's rules for it (or that file's `default`), in order."""
    result: dict[str, Rules] = {"default": Rules()}
    for table in tables:
        keys = set(result) | set(table)
        result = {key: rules_for(result, key).merge(rules_for(table, key)) for key in keys}
    return result


def _with_content_type(headers: list[tuple[str, str]], value: str) -> list[tuple[str, str]]:
    """`headers` with Content-Type set to `value`, in its place (appended if absent)."""
    result = [(n, value if n.lower() == "content-type" else v) for n, v in headers]
    if not any(n.lower() == "content-type" for n, _ in headers):
        result.append(("Content-Type", value))
    return result


def rewrite_recording(path: Path, exchange: Exchange) -> None:
    """Write `exchange` back to `path` in the recording format, atomically (temp, fsync,
    rename, directory fsync): a reader sees the old file or the new one, never a torn one. 0600,
    as the recording store writes it: a recording may hold personal data even when redacted."""
    try:
        write_atomically(Path(path), dumps(exchange).encode("utf-8"), mode=0o600)
    except OSError as exc:
        raise RecordingError(f"cannot write: {exc}", source=str(path)) from exc


def _json_text(value: Any, limit: int = 200) -> str:
    if value is ABSENT:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def _xml_text(value: str | None, limit: int = 200) -> str:
    if value is None:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def _more(count: int) -> list[str]:
    return [f"  ... and {count - SHOWN} more"] if count > SHOWN else []
