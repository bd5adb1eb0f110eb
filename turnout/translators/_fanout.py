"""Several calls for one request: the values a fan-out translator's halves exchange.

Most translators make one call (`JsonCall` in, `JsonReply` out). A fan-out translator (MetSearch:
one search across PNC, CRIS and MERLIN) names several calls in `to_calls`, each with its own
timeout and whether the answer may go without it (`optional`); the proxy makes them at once and
hands `to_replies` each call's `JsonReply`, or a `NoAnswer` for an optional call that timed out,
could not be made, or failed (HTTP 5xx). Both halves stay pure, so golden replay feeds the
recorded replies back by name, offline, as it does for one call.

A fan-out translator still has `to_call`/`to_reply` (the `Translator` protocol): `to_call`
raises (there is no single call) and `to_reply` words a refusal the proxy made before any call
(a 401/403 from the identity check), as every translator does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..soap import Envelope
from ._protocol import JsonCall, JsonReply, SoapReply, Translator


@dataclass(frozen=True)
class NamedCall:
    """One call of several: its name (the key of its reply), the call, its own timeout in
    seconds (None: the route's), and whether the answer is made without it when it fails."""

    name: str
    call: JsonCall
    timeout: float | None = None
    optional: bool = False


@dataclass(frozen=True)
class JsonCalls:
    """The calls one request needs, made concurrently; names are unique."""

    calls: tuple[NamedCall, ...]

    def __post_init__(self) -> None:
        names = [named.name for named in self.calls]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"JsonCalls needs one or more calls with unique names, has {names}")


@dataclass(frozen=True)
class NoAnswer:
    """An optional call that did not answer: `kind` is the proxy's word for why
    (`service.timeout`, `service.unreachable`, `service.error`, ...)."""

    kind: str
    error: str = ""


JsonReplies = Mapping[str, JsonReply | NoAnswer]


@runtime_checkable
class FanOutTranslator(Translator, Protocol):
    """A translator whose request needs several calls (see the module docstring)."""

    def to_calls(self, request: Envelope, *, dry_run: bool = False) -> JsonCalls:
        """The calls for `request`; raises as `to_call` does (`RequestRejected`, `Answered`,
        `TranslationError`)."""
        ...

    def to_replies(self, replies: JsonReplies, request: Envelope) -> SoapReply:
        """The SOAP answer from every call's reply (or `NoAnswer`), by name."""
        ...


def fans_out(translator: object) -> bool:
    """Whether `translator` makes several calls (has `to_calls`): cheap, for the hot path."""
    return callable(getattr(translator, "to_calls", None))


def reply_document(reply: JsonReply | NoAnswer) -> dict[str, object]:
    """One reply as a recording holds it: `{status, body}`, or `{unanswered, error}`."""
    if isinstance(reply, NoAnswer):
        return {"unanswered": reply.kind, "error": reply.error}
    return {"status": reply.status, "body": reply.body}


def reply_from_document(document: Mapping[str, object]) -> JsonReply | NoAnswer:
    """The inverse of `reply_document`, for golden replay and offline compare."""
    if "unanswered" in document:
        return NoAnswer(str(document.get("unanswered")), str(document.get("error") or ""))
    status = document.get("status")
    return JsonReply(status=status if isinstance(status, int) and not isinstance(status, bool)
                     else 0, body=document.get("body"))
