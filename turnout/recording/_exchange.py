"""One recorded exchange: what the client sent, what it got back, and what the proxy did."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from turnout.soap import HttpRequest, HttpResponse, OperationName

#: Which path answered the client. Only "legacy" exists on the first slice.
ROUTES = ("legacy", "translator", "shadow", "canary")

#: What became of the request.
#: - forwarded: passed to the upstream and answered from it
#: - rejected: a threat (DOCTYPE, entity, too large, too deep) answered by the proxy itself
#: - unreadable: not readable as SOAP; forwarded or answered per configuration
#: - upstream-error: the bus was down or timed out; answered with a fault
#: - mismatch-rejected: the SOAP action named another operation than the Body did
OUTCOMES = ("forwarded", "rejected", "unreadable", "upstream-error", "mismatch-rejected")

#: Routes and outcomes are checked for shape, not against the lists above: the proxy and later
#: slices add their own (e.g. "client-error"), and a recording must not be lost over a new word.
TOKEN = re.compile(r"[a-z][a-z0-9-]{0,39}")

#: `20261125T075301.123Z-1a2b3c4d`: UTC time to the millisecond, then 32 random bits. Fixed
#: width, so sorting ids as strings sorts them by time.
EXCHANGE_ID = re.compile(r"\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}")

_MESSAGES = ("request", "response", "translated")

#: a W3C trace id
TRACE_ID = re.compile(r"[0-9a-f]{32}")


def new_exchange_id(at: datetime | None = None) -> str:
    """A unique, time-sortable exchange id for the moment `at` (default: now)."""
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    millis = moment.microsecond // 1000
    return f"{moment:%Y%m%dT%H%M%S}.{millis:03d}Z-{secrets.token_hex(4)}"


def is_exchange_id(text: str) -> bool:
    return EXCHANGE_ID.fullmatch(text) is not None


@dataclass(frozen=True)
class OmittedBody:
    """Stands in for a body that could not be redacted and so was never written.

    The hash and length let two recordings be compared without keeping the text.
    """

    #: a stable token: "not-xml", "xml-threat:doctype", "redaction-failed", or why a compressed
    #: body could not be decoded ("bad-encoding", "unsupported-encoding", "too-large", ...)
    reason: str
    sha256: str
    length: int


@dataclass(kw_only=True)
class Exchange:
    """A client request, the answer it got, and how the proxy handled it.

    `id` and `started_at` may be left out: `started_at` defaults to now and `id` is then made
    from it, so both agree on the time.
    """

    request: HttpRequest
    client: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: str = ""
    operation: OperationName | None = None
    soap_version: str | None = None
    action: str | None = None
    route: str = "legacy"
    outcome: str = "forwarded"
    notes: list[str] = field(default_factory=list)
    response: HttpResponse | None = None
    #: milliseconds, e.g. "total" (client in to client out) and "upstream"
    timings: dict[str, float] = field(default_factory=dict)
    #: the response a translator built (translator and canary: what the client got; shadow: what
    #: it would have got). Redacted like `response`.
    translated: HttpResponse | None = None
    #: how the translator got there: {"call": {service, method, path, query, body}, "reply":
    #: {status, body}, "diff": [...], "error": ..., "dry_run": bool}. JSON values are redacted
    #: by the JSON rules, diff values always.
    translation: dict[str, Any] = field(default_factory=dict)
    #: free-form data. NOTE: the redactor does not look inside it; keep personal data out.
    extra: dict[str, Any] = field(default_factory=dict)
    #: bodies dropped by redaction, keyed "request" / "response" / "translated"; body is then b""
    omitted_bodies: dict[str, OmittedBody] = field(default_factory=dict)
    #: the request's id (the client's X-Request-Id, or the proxy's) and its W3C trace id (32
    #: hex digits), as the bus, the services and the logs got them; "" in files from before.
    #: Not personal data: the redactor leaves them as they are.
    request_id: str = ""
    trace_id: str = ""

    def __post_init__(self) -> None:
        if self.started_at.tzinfo is None or self.started_at.utcoffset() is None:
            raise ValueError("started_at must be an aware datetime")
        self.started_at = self.started_at.astimezone(UTC)
        if not self.id:
            self.id = new_exchange_id(self.started_at)
        elif not is_exchange_id(self.id):
            raise ValueError(f"exchange id {self.id!r} is not of the form {EXCHANGE_ID.pattern}")
        for name, value in (("route", self.route), ("outcome", self.outcome)):
            if not TOKEN.fullmatch(value):
                raise ValueError(f"{name} {value!r} is not a lower-case token like 'forwarded'")
        if self.trace_id and not TRACE_ID.fullmatch(self.trace_id):
            raise ValueError(f"trace_id {self.trace_id!r} is not 32 lower-case hex digits")
        if self.soap_version not in (None, "1.1", "1.2"):
            raise ValueError(f"soap_version {self.soap_version!r} is not 1.1 or 1.2")
        unknown = set(self.omitted_bodies) - set(_MESSAGES)
        if unknown:
            raise ValueError(f"omitted_bodies keys must be one of {_MESSAGES}, not {unknown}")
