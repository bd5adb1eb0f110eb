"""Parity: for every recorded exchange the legacy bus answered, does the new path answer the same?

The new answer comes from one of two places:

- offline (`TranslatorAnswers`, the default): the translator's response half run on the JSON
  reply the recording holds. Pure, so a recording replays the same on every machine, and every
  value in it comes from the recording. Where the translator answered without calling the
  service (an invalid request, a search it answers itself), the answer it gave is in the
  recording and is used as recorded: run again on the redacted request, the request half would
  judge the redacted values, not the caller's.
- live (`TargetAnswers`): the recorded request sent again to a target, e.g. a proxy whose routes
  put the operation on its translator. Writes are never sent again. Given the recorder's
  `Redactor`, the target's answers are redacted by the same rules before anything else happens:
  the legacy answers on disk were, so the two compare like for like, and no value the
  recordings do not hold reaches a report.

Both sides are compared with `diff` under the operation's rules, and the HTTP status counts too.

`judge_exchange` is the one place an exchange is judged: `compare_recordings` (`turnout
compare`), the readiness gate and `turnout status` all call it, so they count alike. Each
exchange ends as one of four:

- equal (identical, or equal under the rules): a sample that matches;
- different: a sample that does not;
- translator failed: a sample that does not match either, because the new path gave no
  answer: the translator failed or timed out when recorded, its service answered 5xx, or
  its response half fails now (`Sample.error` says which). A shadow whose translator failed
  is evidence against moving the operation, never "no evidence";
- not compared (`NotCompared`): there is nothing to compare, and the reason says why: no
  translation ran (the legacy route, a shadow dropped or cut off at shutdown), or the legacy
  answer is not on disk (not redactable, or compressed in a way that cannot be decoded).
"""

from __future__ import annotations

import dataclasses
import http.client
import socket
import uuid
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from turnout.recording import (
    NOT_RESENT,
    SKIP_BAD_PATH,
    SKIP_NOT_NAMED,
    SKIP_UNDECLARED,
    SKIP_WRITE,
    SKIP_WRITE_NAME,
    Exchange,
    RecordingStore,
    Redactor,
    ReplayPolicy,
    write_keys,
    write_verb,
)
from turnout.soap import (
    Envelope,
    SoapError,
    XmlThreat,
    decode_content,
    end_to_end,
    headers_dict,
    parse_xml,
    read_message,
)
from turnout.translators import (
    FanOutTranslator,
    JsonReply,
    TranslationError,
    Translator,
    TranslatorSet,
    Volatiles,
    reply_from_document,
)

from ._diff import diff
from ._rules import Rules, rules_for

IDENTICAL = "identical"
EQUAL = "equal"  # equal under the rules, not identical
DIFFERENT = "different"
RESULTS = (IDENTICAL, EQUAL, DIFFERENT)

#: the four verdicts on an exchange (`verdict_of`): what status, the gate and compare count
MATCHED = "equal"  # identical or equal under the rules
DIFFERED = "different"
FAILED = "translator-failed"
NOT_COMPARED = "not-compared"
VERDICTS = (MATCHED, DIFFERED, FAILED, NOT_COMPARED)

#: recorded translation kinds that are answers: anything else is a failure of the new path
_ANSWER_KINDS = ("ok", "answered", "rejected")

#: kinds of the differences parity adds to the diff's own (missing, extra, changed, reordered)
STATUS = "status"  # the HTTP status differs
UNREADABLE = "unreadable"  # a body is not a readable XML document
ERROR = "error"  # no new answer: the translator failed, or the target did not answer

_STATUS_PATH = "(HTTP status)"
#: the largest body a live target's compressed answer may decode to
_MAX_DECODED = 64 * 1024 * 1024

#: hop-by-hop headers (RFC 9110 7.6.1) and what the connection to the target sets itself


class ParityError(Exception):
    """Parity cannot be measured at all: no recordings, no translators, an unreachable target."""


@dataclass(frozen=True)
class SampleDifference:
    """One difference, as plain values: what a report shows (`kind path: legacy -> new`)."""

    path: str
    kind: str
    legacy: str | None
    new: str | None


@dataclass(frozen=True)
class Sample:
    """One recorded exchange compared: the legacy answer against the new one."""

    id: str
    operation: str
    result: str  # identical | equal | different
    legacy_status: int
    new_status: int | None
    differences: tuple[SampleDifference, ...] = ()
    #: prefix -> namespace URI of the prefixes the paths use
    namespaces: Mapping[str, str] = field(default_factory=dict)
    #: why there is no new answer (the sample then counts as different)
    error: str | None = None
    #: how the new answer was made; see `NewAnswer.via`
    via: str = ""

    @property
    def matches(self) -> bool:
        return self.result != DIFFERENT

    @property
    def failed(self) -> bool:
        """No new answer: the translator (or the target) failed. Counts as different."""
        return self.error is not None


@dataclass(frozen=True)
class NotCompared:
    """An exchange the legacy bus answered, for which there is no new answer to compare."""

    id: str
    operation: str
    reason: str


def verdict_of(item: Sample | NotCompared) -> str:
    """`MATCHED`, `DIFFERED`, `FAILED` or `NOT_COMPARED`."""
    if isinstance(item, NotCompared):
        return NOT_COMPARED
    if item.failed:
        return FAILED
    return MATCHED if item.matches else DIFFERED


@dataclass
class OperationParity:
    """Every sample of one operation, and what they add up to."""

    operation: str
    samples: list[Sample] = field(default_factory=list)
    not_compared: list[NotCompared] = field(default_factory=list)

    def _count(self, result: str) -> int:
        return sum(1 for sample in self.samples if sample.result == result)

    @property
    def identical(self) -> int:
        return self._count(IDENTICAL)

    @property
    def equal(self) -> int:
        """Equal under the rules, and not identical."""
        return self._count(EQUAL)

    @property
    def different(self) -> int:
        return self._count(DIFFERENT)

    @property
    def errors(self) -> int:
        """Different samples that are so because there was no new answer at all."""
        return sum(1 for sample in self.samples if sample.error is not None)

    #: the translator failed (or the target did not answer): counted in `different` too
    failed = errors

    @property
    def matching(self) -> int:
        """identical + equal under the rules."""
        return self.identical + self.equal

    def add(self, item: Sample | NotCompared) -> None:
        if isinstance(item, NotCompared):
            self.not_compared.append(item)
        else:
            self.samples.append(item)

    @property
    def parity(self) -> float | None:
        """(identical + equal under rules) / samples, in percent; None without samples."""
        if not self.samples:
            return None
        return 100.0 * (self.identical + self.equal) / len(self.samples)

    def differing_paths(self) -> list[tuple[str, int]]:
        """Paths that differ, with in how many samples, most frequent first."""
        counts: Counter[str] = Counter()
        for sample in self.samples:
            counts.update({difference.path for difference in sample.differences})
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def passes(self, min_parity: float) -> bool:
        """True unless there are samples and their parity is below `min_parity` percent."""
        parity = self.parity
        return parity is None or parity + 1e-9 >= min_parity


@dataclass
class ParityReport:
    """Parity per operation over one recording directory."""

    directory: str
    mode: str  # offline | live
    target: str | None = None
    rules: str | None = None
    translators: str | None = None
    operations: list[OperationParity] = field(default_factory=list)
    #: exchanges read, and of those how many the legacy bus did not answer (not considered)
    recordings: int = 0
    not_legacy: int = 0
    #: exchanges of operations not asked for (`operations=`), not considered
    not_selected: int = 0

    @property
    def samples(self) -> list[Sample]:
        return [sample for operation in self.operations for sample in operation.samples]

    @property
    def not_compared(self) -> list[NotCompared]:
        return [item for operation in self.operations for item in operation.not_compared]

    def failing(self, min_parity: float) -> list[OperationParity]:
        return [operation for operation in self.operations if not operation.passes(min_parity)]


@dataclass(frozen=True)
class NewAnswer:
    """What the new path answered: a status and a body, or an `error` saying why nothing."""

    status: int | None
    body: bytes = b""
    error: str | None = None
    #: how it was made: "to_reply" (the response half, run now), "recorded" (the translator's
    #: answer without a call, as recorded), "to_call" (the request half, run now), "target"
    via: str = ""


class AnswerSource(Protocol):
    """Where new answers come from. Returns a `NotCompared` reason (a str) when it has none."""

    @property
    def mode(self) -> str:
        """offline | live"""
        ...

    @property
    def target(self) -> str | None:
        """The live target's URL."""
        ...

    def answer(self, exchange: Exchange) -> NewAnswer | str:
        ...


def legacy_answered(exchange: Exchange) -> bool:
    """Did the legacy bus answer the client? Legacy and shadow routes, the canary share left
    on the bus, and translator failures that fell back to the bus."""
    if exchange.operation is None or exchange.response is None:
        return False
    if exchange.outcome not in ("forwarded", "fallback"):
        return False  # rejected, upstream-error...: the proxy answered, not the bus
    return (
        exchange.route in ("legacy", "shadow")
        or "canary:legacy" in exchange.notes
        or exchange.outcome == "fallback"
    )


def compare_recordings(
    directory: Path,
    source: AnswerSource,
    rules: Mapping[str, Rules] | None = None,
    *,
    rules_source: str | None = None,
    translators_source: str | None = None,
    operations: Collection[str] | None = None,
) -> ParityReport:
    """Compare every legacy answer recorded under `directory` with `source`'s answer.

    With `operations`, only those operations' exchanges are considered. Raises `ParityError`
    when there is nothing to read, `RecordingError` for a bad recording.
    """
    if not directory.is_dir():
        raise ParityError(f"{directory}: no such directory")
    report = ParityReport(
        directory=str(directory), mode=source.mode, target=source.target,
        rules=rules_source, translators=translators_source,
    )
    by_operation: dict[str, OperationParity] = {}
    wanted = set(operations) if operations is not None else None
    for exchange in RecordingStore(directory).iter_exchanges():
        report.recordings += 1
        if not legacy_answered(exchange):
            report.not_legacy += 1
            continue
        assert exchange.operation is not None
        key = exchange.operation.key
        if wanted is not None and key not in wanted:
            report.not_selected += 1
            continue
        by_operation.setdefault(key, OperationParity(key)).add(
            judge_exchange(exchange, source, rules)
        )
    if report.recordings == 0:
        raise ParityError(f"{directory}: no recordings")
    report.operations = [by_operation[key] for key in sorted(by_operation)]
    return report


def judge_exchange(
    exchange: Exchange, source: AnswerSource, rules: Mapping[str, Rules] | None = None
) -> Sample | NotCompared:
    """The one judgement of an exchange the legacy bus answered (see `legacy_answered`): a
    `Sample` (identical, equal under the rules, different; `failed` when the new path gave no
    answer) or `NotCompared` with the reason. `verdict_of` names the four outcomes.

    `turnout compare`, the readiness gate and `turnout status` all judge through this, so an
    exchange counts the same in each.
    """
    assert exchange.operation is not None
    key = exchange.operation.key
    legacy = legacy_body(exchange)
    if isinstance(legacy, str):
        return NotCompared(exchange.id, key, legacy)
    answer = source.answer(exchange)
    if isinstance(answer, str):
        return NotCompared(exchange.id, key, answer)
    return compare_sample(exchange, answer, rules_for(rules or {}, key), legacy=legacy)


def legacy_body(exchange: Exchange) -> bytes | str:
    """The legacy answer's body to compare, or why there is none: not recorded, because
    redaction could not keep it or the store could not decode its compression. (A body kept
    compressed, as the store wrote them before it decoded bodies, is compared as it is: it
    is not XML, so the sample is different, with an unreadable legacy answer.)"""
    response = exchange.response
    if response is None:
        return "no legacy answer was recorded"
    omitted = exchange.omitted_bodies.get("response")
    if omitted is not None:
        return f"the legacy answer was not recorded ({_omitted_why(omitted.reason)})"
    return response.body


def _omitted_why(reason: str) -> str:
    if reason in ("bad-encoding", "unsupported-encoding", "too-large", "compression-ratio"):
        return f"its compression could not be decoded: {reason}"
    return f"not redactable: {reason}" if reason else "not redactable"


def compare_sample(
    exchange: Exchange, answer: NewAnswer, rules: Rules, *, legacy: bytes | None = None
) -> Sample:
    """One sample: the recorded legacy answer (or its decoded body, `legacy`) against
    `answer`, under `rules`."""
    assert exchange.response is not None and exchange.operation is not None
    legacy_response = exchange.response
    legacy_bytes = legacy_response.body if legacy is None else legacy
    base: dict[str, Any] = {
        "id": exchange.id, "operation": exchange.operation.key, "via": answer.via,
        "legacy_status": legacy_response.status, "new_status": answer.status,
    }
    found: list[SampleDifference] = []
    if answer.status is not None and legacy_response.status != answer.status:
        found.append(SampleDifference(_STATUS_PATH, STATUS, str(legacy_response.status),
                                      str(answer.status)))
    if answer.error is not None or answer.status is None:
        reason = answer.error or "no answer"
        found.append(SampleDifference("/", ERROR, None, reason))
        return Sample(**base, result=DIFFERENT, error=reason, differences=tuple(found))
    roots = []
    for side, body in (("legacy", legacy_bytes), ("new", answer.body)):
        try:
            roots.append(parse_xml(body))
        except SoapError as exc:  # the messages name elements and positions, never values
            found.append(SampleDifference("/", UNREADABLE, None, f"the {side} answer: {exc}"))
    if len(roots) < 2:
        return Sample(**base, result=DIFFERENT, differences=tuple(found))
    result = diff(roots[0], roots[1], rules)
    found.extend(SampleDifference(d.path, d.kind, d.legacy, d.new) for d in result.differences)
    if found:
        outcome = DIFFERENT
    else:
        outcome = IDENTICAL if result.exact else EQUAL
    return Sample(**base, result=outcome, differences=tuple(found),
                  namespaces=dict(result.namespaces) if result.differences else {})


# -- offline: the translator's halves on what the recording holds


class _Moment:
    """The volatile values of the exchange being replayed: its own time, an id made from its id.

    Translators take their clock and message ids from `Volatiles`; pinning them to the
    recording makes a report the same on every run.
    """

    def __init__(self) -> None:
        self.at: datetime | None = None
        self.message_id = ""

    def volatiles(self) -> Volatiles:
        def clock() -> datetime:
            assert self.at is not None
            return self.at

        return Volatiles(clock=clock, message_id=lambda: self.message_id)

    def pin(self, exchange: Exchange) -> None:
        self.at = exchange.started_at
        self.message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:turnout:exchange:{exchange.id}"))


class TranslatorAnswers:
    """New answers made offline by the translators, from what the recordings hold."""

    mode = "offline"
    target = None

    def __init__(self, translators: TranslatorSet) -> None:
        self._moment = _Moment()
        self.translators = translators.with_volatiles(self._moment.volatiles())

    def answer(self, exchange: Exchange) -> NewAnswer | str:
        assert exchange.operation is not None
        translator = self.translators.for_operation(exchange.operation.key)
        if translator is None:
            return "no translator for this operation"
        translation = exchange.translation or {}
        reply, kind = translation.get("reply"), translation.get("kind")
        if not translation:
            return "no translation: the recording has no JSON reply"
        replies = translation.get("replies")
        if isinstance(translator, FanOutTranslator) and isinstance(replies, dict):
            return self._from_replies(exchange, translator, replies)
        if isinstance(reply, dict) and _status_of(reply) >= 500:
            return recorded_failure(exchange) or NewAnswer(
                None, via="recorded", error=f"the service answered HTTP {_status_of(reply)}")
        if not isinstance(reply, dict):
            if kind in ("rejected", "answered"):
                return self._without_call(exchange, translator)
            failure = recorded_failure(exchange)
            if failure is not None:
                return failure
            return "no translation: the recording has no JSON reply"
        envelope = self._request(exchange)
        if isinstance(envelope, str):
            return envelope
        self._moment.pin(exchange)
        try:
            soap = translator.to_reply(_json_reply(reply), envelope)
        except TranslationError as exc:
            return NewAnswer(None, error=f"translation error: {exc.message}", via="to_reply")
        except Exception as exc:  # noqa: BLE001 - a translator bug is a finding, not a crash
            return NewAnswer(None, via="to_reply", error=f"translator {translator.name} crashed "
                                                          f"in to_reply: {type(exc).__name__}")
        return NewAnswer(soap.status, soap.body, via="to_reply")

    def _from_replies(self, exchange: Exchange, translator: FanOutTranslator,
                      replies: dict[str, Any]) -> NewAnswer | str:
        """A fan-out translator's answer from its recorded replies, by call name."""
        failure = recorded_failure(exchange)
        if failure is not None:
            return failure
        envelope = self._request(exchange)
        if isinstance(envelope, str):
            return envelope
        self._moment.pin(exchange)
        given = {str(name): reply_from_document(doc) for name, doc in replies.items()
                 if isinstance(doc, dict)}
        try:
            soap = translator.to_replies(given, envelope)
        except TranslationError as exc:
            return NewAnswer(None, error=f"translation error: {exc.message}", via="to_reply")
        except Exception as exc:  # noqa: BLE001 - a translator bug is a finding, not a crash
            return NewAnswer(None, via="to_reply", error=f"translator {translator.name} crashed "
                                                          f"in to_replies: {type(exc).__name__}")
        return NewAnswer(soap.status, soap.body, via="to_reply")

    def _without_call(self, exchange: Exchange, translator: Translator) -> NewAnswer | str:
        """The answer the translator gave without calling the service: as recorded, else made
        again by the request half (`Answered` / `RequestRejected` carry it)."""
        translated = exchange.translated
        if translated is not None and "translated" not in exchange.omitted_bodies:
            return NewAnswer(translated.status, translated.body, via="recorded")
        envelope = self._request(exchange)
        if isinstance(envelope, str):
            return envelope
        self._moment.pin(exchange)
        try:
            translator.to_call(envelope)
        except TranslationError as exc:
            if exc.reply is not None:
                return NewAnswer(exc.reply.status, exc.reply.body, via="to_call")
            return NewAnswer(None, error=f"translation error: {exc.message}", via="to_call")
        except Exception as exc:  # noqa: BLE001
            return NewAnswer(None, via="to_call", error=f"translator {translator.name} crashed "
                                                         f"in to_call: {type(exc).__name__}")
        return ("no translation: the translator answered without a call when recorded, "
                "and now calls the service")

    @staticmethod
    def _request(exchange: Exchange) -> Envelope | str:
        if "request" in exchange.omitted_bodies:
            return "the request was not recorded (not redactable)"
        request = exchange.request
        try:
            return read_message(request.body, request.path, headers_dict(request.headers))
        except SoapError as exc:
            return f"the recorded request cannot be read: {exc}"


def _json_reply(recorded: dict[str, object]) -> JsonReply:
    return JsonReply(status=_status_of(recorded), body=recorded.get("body"))


def _status_of(recorded: dict[str, object]) -> int:
    status = recorded.get("status")
    return status if isinstance(status, int) and not isinstance(status, bool) else 0


def recorded_failure(exchange: Exchange) -> NewAnswer | None:
    """The new path's failure as recorded (a timeout, a service down or answering 5xx, a
    translator error or crash), as an answer that counts as different; None when the
    recorded run did not fail."""
    translation = exchange.translation or {}
    kind = translation.get("kind")
    if not translation or kind is None or kind in _ANSWER_KINDS:
        return None
    error = translation.get("error")
    detail = f"{kind}: {error}" if error else str(kind or "failed")
    return NewAnswer(None, via="recorded", error=f"the translator failed when recorded ({detail})")


class RecordedAnswers:
    """New answers as the proxy recorded them: the translated envelope a shadow (or a
    translator route) produced live. No translators needed; what the proxy saw, judged now
    under the rules given to `judge_exchange`."""

    mode = "recorded"
    target = None

    def answer(self, exchange: Exchange) -> NewAnswer | str:
        if not exchange.translation:
            return "no translation: the recording has no translated answer"
        failure = recorded_failure(exchange)
        if failure is not None:
            return failure
        translated = exchange.translated
        if translated is None:
            return "no translation: the recording has no translated answer"
        if "translated" in exchange.omitted_bodies:
            return "the translated answer was not recorded (not redactable)"
        return NewAnswer(translated.status, translated.body, via="recorded")


# -- live: the recorded request sent again to a target


class TargetAnswers:
    """New answers from a live target (`http://host:port[/base]`), one request at a time.

    What is sent is decided by a `turnout.recording.ReplayPolicy`, the planner `turnout
    replay` and noise learning use: declared reads only, never a write or a name that looks
    like one unless it allows, on normalised service paths (`/%63ris CreateCrimeReport` is
    `/cris`'s write), and never a recording whose path cannot be normalised. Without a
    `policy`, `writes` names the operations never to send again and every other operation is
    sent (the caller vouches for them), but a name that looks like a write still is not.
    Declared writes are never sent, whatever the policy says: a write would be made twice.
    `redactor` (the recorder's) is applied to every answer before it is compared or reported.
    """

    mode = "live"

    def __init__(self, url: str, writes: Collection[str] = (), timeout: float = 10.0,
                 redactor: Redactor | None = None, case_insensitive: bool = False,
                 policy: ReplayPolicy | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ParityError(f"target {url!r} is not an http:// or https:// URL")
        self.url = self.target = url.rstrip("/")
        if policy is None:
            policy = ReplayPolicy(writes=write_keys(writes, case_insensitive),
                                  case_insensitive=case_insensitive)
        # compare never makes a write again, whatever else the policy allows
        self.policy = dataclasses.replace(policy, send_writes=False)
        self.writes = self.policy.writes
        self.case_insensitive = self.policy.case_insensitive
        self.timeout = timeout
        self.redactor = redactor
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._base = parts.path.rstrip("/")
        self._connection: http.client.HTTPConnection | None = None

    def answer(self, exchange: Exchange) -> NewAnswer | str:
        assert exchange.operation is not None
        _, reason = self.policy.check(exchange)
        if reason == SKIP_BAD_PATH:
            return "the recorded path has no one meaning: not sent"
        if reason == SKIP_WRITE or exchange.translation.get("dry_run"):
            return "a write: not sent again"
        if reason == SKIP_WRITE_NAME:
            return (f"its name starts with {write_verb(exchange.operation.name)!r}, a verb "
                    "that writes: not sent without --include-writes")
        if reason == SKIP_UNDECLARED:
            return ("not declared a read (by the route file or a translator): not sent; name "
                    "it with --operation and confirm it is a read")
        if reason == SKIP_NOT_NAMED:
            return "not named with --operation: not sent"
        if reason is not None:
            return f"not sent: {reason}"
        if "request" in exchange.omitted_bodies:
            return "the request was not recorded (not redactable)"
        request = exchange.request
        headers = resendable_headers(request.headers)
        try:
            status, body = self._send(request.method, self._base + request.path, headers, request.body)
        except (ConnectionRefusedError, socket.gaierror) as exc:
            raise ParityError(f"target {self.url} is unreachable: {exc}") from None
        except TimeoutError:
            return NewAnswer(None, error=f"the target did not answer within {self.timeout:g} s",
                             via="target")
        except (OSError, http.client.HTTPException) as exc:
            return NewAnswer(None, error=f"the target broke off: {type(exc).__name__}", via="target")
        if self.redactor is not None:
            try:
                body = self.redactor.redact_body(body)
            except ValueError as exc:  # its values cannot be shown, only that it is so
                return NewAnswer(status, error=f"the target's answer cannot be redacted ({exc})",
                                 via="target")
        return NewAnswer(status, body, via="target")

    def _send(self, method: str, path: str, headers: list[tuple[str, str]],
              body: bytes) -> tuple[int, bytes]:
        """One request on the kept-alive connection; a stale connection is retried once."""
        for attempt in (1, 2):
            connection = self._connection or self._connect()
            try:
                connection.putrequest(method, path, skip_accept_encoding=True)
                for name, value in headers:
                    connection.putheader(name, value)
                connection.putheader("Accept-Encoding", "identity")
                connection.putheader("Content-Length", str(len(body)))
                connection.endheaders(body)
                response = connection.getresponse()
                data = _decoded(response.read(), response.getheader("Content-Encoding"))
                if response.will_close:
                    self.close()
                return response.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
            except BaseException:
                self.close()
                raise
        raise AssertionError("unreachable")

    def _connect(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        self._connection = kind(self._host, self._port, timeout=self.timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> TargetAnswers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def resendable_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The recorded request's headers to send again (see `turnout.recording.resendable_headers`),
    without Accept-Encoding: the target is asked for `identity` so answers compare as XML."""
    return end_to_end(list(headers), NOT_RESENT | {"accept-encoding"})


def _decoded(data: bytes, encoding: str | None) -> bytes:
    """A body the target compressed although asked not to, decoded within bounds (a body that
    cannot be decoded is returned as it came, and then compares as unreadable)."""
    try:
        return decode_content(data, encoding, _MAX_DECODED)
    except XmlThreat:
        return data
