"""The two-halves protocol every translator speaks, and the plain values that cross it.

A translator turns one SOAP request into one JSON call (`to_call`) and the JSON reply to that
call into one SOAP reply (`to_reply`). Both halves are pure: no I/O, no HTTP client, no clock
or random source of their own (those come from `Volatiles`), so a recording replays through a
translator offline and gives the same bytes every time. The proxy does the HTTP in between.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from ..soap import Envelope


@dataclass(frozen=True)
class JsonCall:
    """One HTTP call to a modern service, relative to its base URL (the proxy knows that).

    `path` is already percent-encoded; `query` is unencoded (name, value) pairs, in order;
    `body` is a JSON value (None: no body).
    """

    service: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = None


@dataclass(frozen=True)
class JsonReply:
    """What the modern service answered: status, headers and the decoded JSON body (or None)."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = None


@dataclass(frozen=True)
class SoapReply:
    """What the client gets: a response envelope (200) or a SOAP Fault (500), as bytes."""

    status: int
    content_type: str
    body: bytes


@runtime_checkable
class Translator(Protocol):
    """One SOAP operation, moved to one modern service."""

    @property
    def name(self) -> str:
        """A unique name, e.g. "pnc/VehicleEnquiry"."""
        ...

    @property
    def operation(self) -> str:
        """The route-table key of the operation it translates, e.g. "/pnc VehicleEnquiry"."""
        ...

    @property
    def service(self) -> str:
        """Which modern service it calls; the proxy maps this to a base URL from its config."""
        ...

    @property
    def writes(self) -> bool:
        """True when the call changes state: shadow it only through its dry-run endpoint."""
        ...

    def to_call(self, request: Envelope, *, dry_run: bool = False) -> JsonCall:
        """The JSON call for `request`; `dry_run` asks for the service's validate-only endpoint.

        Raises `RequestRejected` when the request itself is wrong, `Answered` when no call is
        needed, and `TranslationError` when it cannot be mapped for any other reason. When the
        error's `.reply` is set, that is the answer the legacy bus would have given.
        """
        ...

    def to_reply(self, reply: JsonReply, request: Envelope) -> SoapReply:
        """The SOAP answer to `request` given the service's `reply`, in the request's version.

        Raises `TranslationError` when the reply is unusable: a status no fault rule covers, a
        missing required field, a value of the wrong JSON type.
        """
        ...


class TranslationError(Exception):
    """The request could not be mapped, or the reply could not be turned into SOAP.

    When `reply` is set, the translator knows what the legacy bus would have answered and the
    proxy may send it as the translator's answer (see `RequestRejected`, `Answered`); otherwise
    the proxy answers with its configured fallback (the legacy bus, or a SOAP Fault).
    `translator` names the translator, when known.
    """

    def __init__(
        self, message: str, *, translator: str | None = None, reply: SoapReply | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.translator = translator
        self.reply = reply

    def __str__(self) -> str:
        return f"{self.translator}: {self.message}" if self.translator else self.message


class RequestRejected(TranslationError):
    """The request is invalid (a missing field, a date that is no date): the service need not
    be called at all.

    `field` names the request field. `reply` is the SOAP Fault the legacy bus would have sent
    for the same request, when the translator declares one; without one, treat this as any
    other `TranslationError`.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        reply: SoapReply | None = None,
        translator: str | None = None,
    ) -> None:
        super().__init__(message, translator=translator, reply=reply)
        self.field = field


class Answered(TranslationError):
    """The translator answers this request itself, without calling the service: `reply` is the
    answer (e.g. an empty search page for a code the modern service has no word for).

    Raised by `to_call`; a proxy that does not know this class falls back to the legacy bus,
    which gives the same answer.
    """

    def __init__(self, reply: SoapReply, *, reason: str, translator: str | None = None) -> None:
        super().__init__(reason, translator=translator, reply=reply)
        self.reply: SoapReply = reply


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _new_uuid() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Volatiles:
    """Where a translator gets the values that differ on every message: the clock (aware, UTC)
    and fresh message ids. Tests inject fixed ones so translated envelopes are byte-exact."""

    clock: Callable[[], datetime] = _utc_now
    message_id: Callable[[], str] = _new_uuid


DEFAULT_VOLATILES = Volatiles()
