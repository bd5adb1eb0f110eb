"""Replaying recorded requests to a target (the bus, the proxy, a staging system).

Three pieces, usable apart:

- `plan_replay` decides what may be sent: writes only when asked, never what the proxy refused
  (it was hostile or failed its checks), never what has no body on disk, never a path with no
  one meaning. Given a `ReplayPolicy` (what the commands pass), it also sends only operations
  declared as reads, or named by a person and confirmed as reads, and never an operation
  whose name starts with a verb that writes (`CreateCrimeReport`) unless writes are asked
  for. Every judgement is made on the operation key with the service path normalised as the
  proxy normalises a request target (`/%63ris`, `/./cris` and `/pnc/../cris` are all
  `/cris`), by `ReplayPolicy.check`, which `compare --target` and noise learning use too;
- `send_all` sends plain `HttpRequest`s with asyncio and aiohttp, at most `concurrency` at
  once and at most `rate` per second (a token bucket holding one token, so `n` requests take
  at least `(n - 1) / rate` seconds: no burst at the start);
- `replay` puts them together and writes each answer as a new exchange (route `replay`,
  `extra: {replay_of, target}`) through a `RecordingStore`, so the same redaction and atomic
  write apply as to what the proxy records. Given replay rules (`rules=`), it follows state:
  requests go in recorded order, each waits for the answers whose values it carries, and
  those values become the target's (`_carry_state.Carrier`; learning is `_carry_learn`).

A replay sends what was recorded: values that redaction replaced are sent as replaced, and a
body that came compressed is sent as the store keeps it, decoded and without Content-Encoding.
Recordings written before the store decoded bodies keep both the compressed bytes and their
header, so they are sent as they came.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from turnout.soap import (
    BadTarget,
    Headers,
    HttpRequest,
    HttpResponse,
    end_to_end,
    normalise_target,
    service_path,
)

from ..transport import H1Transport, Outbound, Timeouts, Transport, TransportError
from ._carry_rules import CarryPlace, CarryRule, answered_ok
from ._carry_state import Carrier
from ._errors import RecordingError
from ._exchange import Exchange, is_exchange_id
from ._store import RecordingStore, read_exchange

#: what the sending client sets for itself, on top of the hop-by-hop headers
NOT_RESENT = frozenset({"host", "content-length"})

ROUTE = "replay"
CLIENT = "turnout-replay"

# why an exchange was not sent
SKIP_WRITE = "write"  # declared a write: `writes: true` on its route or its translator
SKIP_WRITE_NAME = "write-name"  # its name starts with a verb that writes (Create, Submit...)
SKIP_UNDECLARED = "undeclared"  # declared neither a read nor a write, nor named and confirmed
SKIP_NOT_NAMED = "not-named"  # operations were named (`--operation`), and not this one
SKIP_REJECTED = "rejected"  # the proxy refused it: a threat or a SOAP action mismatch
SKIP_UNREADABLE = "unreadable"  # not SOAP: no operation to judge it by
SKIP_NO_BODY = "body-not-recorded"  # redaction could not keep the request body
SKIP_BAD_PATH = "path-not-normalisable"  # its path has no one meaning: never sent
_REJECTED_OUTCOMES = ("rejected", "mismatch-rejected")

#: each reason in words, for a person (the commands add what to do about it)
SKIP_WHY = {
    SKIP_WRITE: "declared a write (writes: true on its route or its translator)",
    SKIP_WRITE_NAME: "its name starts with a verb that writes",
    SKIP_UNDECLARED: "declared neither a read nor a write, by the route file or a translator",
    SKIP_NOT_NAMED: "not one of the operations named with --operation",
    SKIP_REJECTED: "the proxy rejected it (a threat, or a refused SOAP action mismatch)",
    SKIP_UNREADABLE: "not readable as SOAP: no operation to judge it by",
    SKIP_NO_BODY: "its request body was not recorded (redaction could not keep it)",
    SKIP_BAD_PATH: "its path has no one meaning",
}

IsWrite = Callable[[str], bool]


def never_a_write(key: str) -> bool:
    """The `is_write` of a caller that cannot tell: nothing is recognised as a write."""
    return False


def normalised_key(key: str, case_insensitive: bool = False) -> str:
    """`/%63ris CreateCrimeReport` -> `/cris CreateCrimeReport`: an operation key with its
    service path normalised as the proxy normalises a request target (percent-escapes decoded,
    dot segments removed, `//` collapsed, lower-cased with `case_insensitive`).

    Raises `BadTarget` for a path with no one meaning (an encoded `/`, `;`, a backslash...).
    """
    path, sep, name = key.partition(" ")
    return f"{_normalised_service(path, case_insensitive)}{sep}{name}"


def _normalised_service(path: str, case_insensitive: bool) -> str:
    return service_path(normalise_target(path, case_insensitive).path)


def operation_key(exchange: Exchange) -> str | None:
    """The exchange's operation key with its service path normalised (as recorded when it
    cannot be), or None without an operation."""
    if exchange.operation is None:
        return None
    try:
        return normalised_key(exchange.operation.key)
    except BadTarget:
        return exchange.operation.key


def write_keys(keys: Iterable[str], case_insensitive: bool = False) -> frozenset[str]:
    """The route table's (or translators') write keys, normalised like recorded ones, so that
    `is_write` compares like with like. A key that cannot be normalised is kept as written."""
    found = set()
    for key in keys:
        try:
            found.add(normalised_key(key, case_insensitive))
        except BadTarget:
            found.add(key)
    return frozenset(found)


def _keys(exchange: Exchange, case_insensitive: bool) -> tuple[str | None, str | None, bool]:
    """`(key, as_sent, ok)`: the recorded operation's key with its service path normalised,
    the same operation on the path a resend puts on the request line, and False when either
    path has no one meaning (keys are then as recorded, or None)."""
    try:
        sent = normalise_target(exchange.request.path, case_insensitive)
    except BadTarget:
        return (exchange.operation.key if exchange.operation else None), None, False
    if exchange.operation is None:
        return None, None, True
    name = exchange.operation.name
    try:
        key = f"{_normalised_service(exchange.operation.service, case_insensitive)} {name}"
    except BadTarget:
        return exchange.operation.key, None, False
    return key, f"{service_path(sent.path)} {name}", True


def resend_check(
    exchange: Exchange, is_write: IsWrite = never_a_write, case_insensitive: bool = False
) -> tuple[str | None, str | None]:
    """`(key, reason)`: the exchange's normalised operation key (None without an operation),
    and why it must not be sent again as a read: `SKIP_BAD_PATH`, `SKIP_WRITE`, or None.

    Both the recorded operation's service path and the recorded request path (what a resend
    puts on the request line) are normalised, and the exchange is a write when either names a
    write; a path that cannot be normalised is never sent, whatever the caller allows.
    `ReplayPolicy.check` builds on it with what else is known of each operation.
    """
    key, as_sent, ok = _keys(exchange, case_insensitive)
    if not ok:
        return key, SKIP_BAD_PATH
    if key is None or as_sent is None:
        return None, None
    if is_write(key) or is_write(as_sent):
        return key, SKIP_WRITE
    return key, None


#: leading verbs of operation names that change state. A name is split into words
#: (`CreateCrimeReport` -> Create, Crime, Report; `create_crime_report` alike) and its first
#: word is looked up, so `AddressLookup` and `Settings` are not writes but `AddNote` and
#: `SetStatus` are. A guard behind the declarations, not a replacement for them.
WRITE_VERBS = frozenset(word.lower() for word in """
    Add Allocate Amend Apply Approve Archive Assign Attach Book Cancel Change Close Complete
    Confirm Create Delete Detach Dispatch Edit Enrol Enroll File Finalise Finalize Flag Grant
    Import Insert Issue Link Lock Log Mark Merge Modify Move Notify Patch Post Publish Purge
    Put Raise Record Register Reject Release Remove Reopen Replace Reserve Reset Restore Revoke
    Save Schedule Send Set Store Submit Suspend Terminate Transfer Unlink Unlock Update Upload
    Upsert Void Withdraw Write
""".split())

_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def write_verb(name: str) -> str | None:
    """The leading verb of operation `name` when it is one that writes (`Create` for
    `CreateCrimeReport`), else None."""
    words = _WORDS.findall(name)
    if words and words[0].lower() in WRITE_VERBS:
        return words[0]
    return None


@dataclass(frozen=True)
class ReplayPolicy:
    """What may be sent again, beyond what the recording itself says (see `plan_replay`).

    Keys are normalised (build them with `write_keys`). An operation is sent only when all of
    these hold:

    - it is not a declared write (`writes`), unless `send_writes`;
    - its name does not start with a verb that writes (`write_verb`), unless
      `allow_write_names`, even when it is declared a read or named;
    - it is declared a read (`reads`), or named in `named` and confirmed a read (`confirmed`).
      `reads=None` skips this check: the caller vouches for every operation it passes;
    - when `named` is given, it is one of them.
    """

    writes: frozenset[str] = frozenset()
    reads: frozenset[str] | None = None
    named: frozenset[str] | None = None
    confirmed: frozenset[str] = frozenset()
    send_writes: bool = False
    allow_write_names: bool = False
    case_insensitive: bool = False
    #: asked about normalised keys too, for callers that tell writes by a function
    is_write: IsWrite | None = None

    def writes_any(self, keys: Iterable[str]) -> bool:
        return any(k in self.writes or (self.is_write is not None and self.is_write(k))
                   for k in keys)

    def check(self, exchange: Exchange) -> tuple[str | None, str | None]:
        """`(key, reason)`: the exchange's normalised operation key (None without one) and why
        it must not be sent (a `SKIP_*` token), or None when it may be. Exchanges without an
        operation are left to the caller (`plan_replay` sends them only when asked)."""
        key, as_sent, ok = _keys(exchange, self.case_insensitive)
        if not ok:
            return key, SKIP_BAD_PATH
        if key is None or as_sent is None or exchange.operation is None:
            return None, None
        keys = {key, as_sent}
        if self.named is not None and not keys <= self.named:
            return key, SKIP_NOT_NAMED
        if self.writes_any(keys) and not self.send_writes:
            return key, SKIP_WRITE
        if write_verb(exchange.operation.name) and not self.allow_write_names:
            return key, SKIP_WRITE_NAME
        if self.reads is not None and not all(
            k in self.reads or k in self.confirmed or self.writes_any([k]) for k in keys
        ):
            return key, SKIP_UNDECLARED
        return key, None


def resendable_headers(headers: Headers) -> Headers:
    """End-to-end headers in their order: no Host, Content-Length or hop-by-hop header
    (including those the Connection header names). The sending client sets its own."""
    return end_to_end(headers, NOT_RESENT)


# -- what to send ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Skipped:
    exchange_id: str
    operation: str | None  # the route-table key, when there is one
    reason: str


@dataclass
class ReplayPlan:
    send: list[Exchange] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def plan_replay(
    exchanges: Iterable[Exchange],
    is_write: IsWrite = never_a_write,
    *,
    include_writes: bool = False,
    include_unreadable: bool = False,
    case_insensitive: bool = False,
    policy: ReplayPolicy | None = None,
) -> ReplayPlan:
    """Which exchanges may be resent, and why each of the others may not.

    With a `policy` (what `turnout replay`, `compare --target` and noise learning pass), it
    decides about every operation: declared reads only, writes and write-like names only as
    it allows; `is_write`, `include_writes` and `case_insensitive` are then not used.
    Without one (a caller that chose its exchanges itself), `is_write` is asked about
    normalised keys (see `resend_check`; build it from `write_keys`), writes go only with
    `include_writes`, names that look like writes too; `case_insensitive` when the bus treats
    `/CRIS` as `/cris`.
    """
    if policy is None:
        policy = ReplayPolicy(send_writes=include_writes, allow_write_names=include_writes,
                              case_insensitive=case_insensitive, is_write=is_write)
    plan = ReplayPlan()
    for exchange in exchanges:
        key, check = policy.check(exchange)
        reason = None
        if exchange.outcome in _REJECTED_OUTCOMES:
            reason = SKIP_REJECTED
        elif "request" in exchange.omitted_bodies:
            reason = SKIP_NO_BODY
        elif check == SKIP_BAD_PATH:
            reason = SKIP_BAD_PATH
        elif key is None or exchange.outcome == "unreadable":
            reason = None if include_unreadable else SKIP_UNREADABLE
        else:
            reason = check
        if reason is None:
            plan.send.append(exchange)
        else:
            plan.skipped.append(Skipped(exchange.id, key, reason))
    return plan


def read_recordings(root: Path) -> tuple[list[Exchange], list[RecordingError]]:
    """Every exchange under `root` in id order, and the files that could not be read (a bad
    file is reported, not fatal, unlike `RecordingStore.iter_exchanges`)."""
    found: list[tuple[str, Path]] = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        for name in files:
            if name.endswith(".yaml") and is_exchange_id(name[:-5]):
                found.append((name[:-5], Path(directory, name)))
    exchanges, errors = [], []
    for _, path in sorted(found):
        try:
            exchanges.append(read_exchange(path))
        except RecordingError as exc:
            errors.append(exc)
    return exchanges, errors


# -- sending --------------------------------------------------------------------------------


class RateLimiter:
    """A token bucket holding one token, refilled `rate` times a second; None: no limit.

    With one token there is no burst: the k-th `acquire` (from 0) returns no earlier than
    k / rate seconds after the first.
    """

    def __init__(self, rate: float | None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be more than 0 requests per second")
        self.interval = 0.0 if rate is None else 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
                now = time.monotonic()
            self._next = max(now, self._next) + self.interval


@dataclass(frozen=True)
class Sent:
    """What came of sending one request: a response, or an error kind and message."""

    request: HttpRequest
    started_at: datetime
    monotonic: float  # time.monotonic() when it was sent
    elapsed_ms: float
    response: HttpResponse | None = None
    error: str | None = None  # a stable token: target.unreachable, target.timeout, target.broken
    message: str = ""


@dataclass(frozen=True)
class SendOptions:
    rate: float | None = 10.0  # requests per second; None: as fast as `concurrency` allows
    concurrency: int = 4
    timeout: float = 30.0  # seconds for one request, connecting included

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.timeout <= 0:
            raise ValueError("timeout must be more than 0 seconds")
        if self.rate is not None and self.rate <= 0:
            raise ValueError("rate must be more than 0 requests per second")


async def send_all(
    requests: Sequence[HttpRequest],
    target: str,
    options: SendOptions = SendOptions(),
    *,
    not_before: Sequence[float] | None = None,
    on_sent: Callable[[int, Sent], Awaitable[object] | None] | None = None,
    transport: Transport | None = None,
    prepare: Callable[[int, HttpRequest], Awaitable[HttpRequest]] | None = None,
) -> list[Sent]:
    """Send each request to `target` + its path; results in the order of `requests`.

    `not_before[i]` (a `time.monotonic()` value) holds request i back until then, e.g. to
    space two sends of one request apart. `on_sent(i, sent)` is called as each one finishes;
    when it returns an awaitable, that sender waits for it (so recording holds a slot), and
    an exception from it stops the whole run. Failures to connect or to get an answer become
    `Sent.error`, never exceptions. `transport`: the seam to send through (default: a pooled
    aiohttp one of `options.concurrency` connections, closed at the end). `prepare(i,
    request)`, awaited before request i takes its turn under the rate, gives the request to
    send instead (a replay that follows state waits there for the answers it needs); workers
    take requests in order, so one that waits only on earlier ones never blocks for good.
    """
    base = target.rstrip("/")
    limiter = RateLimiter(options.rate)
    results: list[Sent | None] = [None] * len(requests)
    indexes = iter(range(len(requests)))
    timeouts = Timeouts(total=options.timeout, connect=min(options.timeout, 10.0))
    owned = transport is None
    if transport is None:
        transport = H1Transport(max_per_host=options.concurrency)
    sender: Transport = transport

    async def worker() -> None:
        for index in indexes:  # shared: each index is taken by one worker
            if not_before is not None:
                delay = not_before[index] - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            request = requests[index]
            if prepare is not None:
                request = await prepare(index, request)
            await limiter.acquire()
            sent = await _send(sender, base, request, timeouts)
            results[index] = sent
            if on_sent is not None:
                pending = on_sent(index, sent)
                if pending is not None:
                    await pending

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(options.concurrency, len(requests))):
                group.create_task(worker())
    except BaseExceptionGroup as failed:  # the first failure; the others were cancelled
        raise failed.exceptions[0] from None
    finally:
        if owned:
            await sender.close()
    return [r for r in results if r is not None]


#: the transport's error kinds as a replay reports them
_TARGET_ERRORS = {"timeout": "target.timeout", "connect": "target.unreachable",
                  "certificate": "target.unreachable", "tls": "target.unreachable"}


async def _send(transport: Transport, base: str, request: HttpRequest, timeouts: Timeouts) -> Sent:
    """One resend through the transport seam: the bytes as the target sent them (never
    decompressed), as the proxy records them."""
    started_at = datetime.now(UTC)
    started = time.monotonic()
    error = None
    message = ""
    response = None
    body = request.body if request.body or request.method in ("POST", "PUT") else None
    try:  # sent as the bus resolves it (`/./p` is `/p`), exactly as the proxy forwards it
        path = normalise_target(request.path).request_target
    except BadTarget:
        path = request.path  # the plan refuses such paths; a direct send keeps what it was given
    outbound = Outbound(request.method, base + path, resendable_headers(request.headers), body)
    try:
        answer = await transport.send(outbound, timeouts=timeouts)
        assert isinstance(answer, HttpResponse)  # no bound given: never streamed
        response = answer
    except TransportError as exc:
        error = _TARGET_ERRORS.get(exc.kind, "target.broken")
        message = f"no answer within {timeouts.total:g} s" if exc.kind == "timeout" else str(exc)
    elapsed = (time.monotonic() - started) * 1000
    return Sent(request, started_at, started, elapsed, response, error, message)


# -- replaying recordings -------------------------------------------------------------------


def replayed_exchange(original: Exchange, sent: Sent, target: str) -> Exchange:
    """The new recording of one resend: a new id, route `replay`, and where it came from."""
    return Exchange(
        request=HttpRequest(
            sent.request.method, sent.request.path,
            resendable_headers(sent.request.headers), sent.request.body,
        ),
        client=CLIENT,
        started_at=sent.started_at,
        operation=original.operation,
        soap_version=original.soap_version,
        action=original.action,
        route=ROUTE,
        outcome="forwarded" if sent.error is None else "upstream-error",
        notes=[] if sent.error is None else [sent.error],
        response=sent.response,
        timings={"total": round(sent.elapsed_ms, 3)},
        extra={"replay_of": original.id, "target": target},
    )


@dataclass
class ReplaySummary:
    sent: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # error kind -> count
    error_messages: list[str] = field(default_factory=list)  # the first few, for a person
    written: list[Path] = field(default_factory=list)
    #: with rules (`replay(..., rules=)`): values replaced by the target's, per rule
    carried: Counter[str] = field(default_factory=Counter)
    #: values an answer gave in the recording but the target never did (its request failed,
    #: or was not sent), sent as recorded, per rule
    not_carried: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_writes(self) -> int:
        """Skipped as declared writes or as names that look like writes."""
        return sum(1 for s in self.skipped if s.reason in (SKIP_WRITE, SKIP_WRITE_NAME))

    @property
    def skipped_other(self) -> int:
        return len(self.skipped) - self.skipped_writes


def replay(
    plan: ReplayPlan,
    store: RecordingStore,
    target: str,
    options: SendOptions = SendOptions(),
    on_progress: Callable[[Exchange, Sent], object] | None = None,
    *,
    rules: Sequence[CarryRule] | None = None,
    recorded: Sequence[Exchange] | None = None,
) -> ReplaySummary:
    """Send `plan.send` to `target` and write each answer into `store`. Blocking (runs its
    own event loop). A recording that cannot be written raises `RecordingError`.

    With `rules` (see `turnout.recording.learn_carry` and `load_carry_rules`), the replay
    follows state: requests go in recorded time order, each waits for the answers whose
    values it carries, and those values are replaced by the target's (see `Carrier`).
    `recorded`: all the recordings, sent or not, so that a request carrying a value from an
    exchange that was not sent is reported (`ReplaySummary.not_carried`).
    """
    return asyncio.run(_replay(plan, store, target, options, on_progress, rules, recorded))


async def _replay(
    plan: ReplayPlan,
    store: RecordingStore,
    target: str,
    options: SendOptions,
    on_progress: Callable[[Exchange, Sent], object] | None,
    rules: Sequence[CarryRule] | None = None,
    recorded: Sequence[Exchange] | None = None,
) -> ReplaySummary:
    summary = ReplaySummary(skipped=list(plan.skipped))
    send = plan.send
    carrier = None
    if rules:
        send = sorted(send, key=lambda e: (e.started_at, e.id))
        ordered = sorted(recorded, key=lambda e: (e.started_at, e.id)) if recorded else None
        carrier = Carrier([_normalised_rule(r) for r in rules], send, operation_key, ordered)

    async def done(index: int, sent: Sent) -> None:
        original = send[index]
        if carrier is not None:
            ok = answered_ok(sent.response)
            carrier.capture(index, original, sent.response.body if ok and sent.response else None)
        summary.sent += 1
        if sent.response is not None:
            summary.statuses[sent.response.status] += 1
        else:
            summary.errors[sent.error or "target.error"] += 1
            if len(summary.error_messages) < 5:
                summary.error_messages.append(f"{original.id}: {sent.error}: {sent.message}")
        exchange = replayed_exchange(original, sent, target)
        if carrier is not None and carrier.notes.get(index):
            exchange.extra["carried"] = list(carrier.notes[index])
        # the store fsyncs: keep the disk off the event loop
        summary.written.append(await asyncio.to_thread(store.write, exchange))
        if on_progress is not None:
            on_progress(original, sent)

    try:
        await send_all([e.request for e in send], target, options, on_sent=done,
                       prepare=carrier.prepare if carrier is not None else None)
    finally:
        if carrier is not None:
            summary.carried.update(carrier.substitutions)
            summary.not_carried.update(carrier.not_captured)
    return summary


def _normalised_rule(rule: CarryRule) -> CarryRule:
    """The rule with its operation keys normalised as recorded ones are (`operation_key`)."""
    def place(where: CarryPlace) -> CarryPlace:
        try:
            return CarryPlace(normalised_key(where.operation), where.path)
        except BadTarget:
            return where
    return CarryRule(place(rule.source), place(rule.target), rule.seen)
