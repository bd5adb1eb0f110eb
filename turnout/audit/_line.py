"""One audit line: who asked which operation, which route answered, and what it touched (hashed).

Plain Python over plain values (no mitmproxy): the proxy hands over what its flow learned.
Everything written is either the proxy's own vocabulary (routes, outcomes, note kinds), the
caller's own id, or a keyed hash: free text (error messages, values) never reaches a line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..soap import Envelope, Headers, header
from ._identifiers import Found

#: the line format; readers skip lines of a format they do not know
FORMAT = 1
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_USERNAME = f"{{{WSSE_NS}}}Security/{{{WSSE_NS}}}UsernameToken/{{{WSSE_NS}}}Username"
OFFICER_HEADER = "X-Officer-Id"
REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower()
#: a client's request id is kept when it is a plain token (a UUID, a ULID, `dev-42:7`)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: an officer id as written: a plain token (`PC5518`, `pc5518@force.example`), nothing longer
_SUBJECT = re.compile(r"[A-Za-z0-9._@:-]{1,64}")
_NOTE = re.compile(r"[a-z0-9-]{1,40}(:[a-z0-9._-]{1,60})?")
_NOTE_HEAD = re.compile(r"[a-z0-9-]{1,40}")
#: outcome -> who wrote the answer the client got
_ANSWERED_BY = {
    "forwarded": "legacy", "unreadable": "legacy", "fallback": "legacy",
    "translated": "translator",
    "rejected": "proxy", "mismatch-rejected": "proxy", "translator-fault": "proxy",
    "upstream-error": "proxy",
    "client-error": "none",
}


def request_id_for(headers: Headers | Sequence[tuple[str, str]] | Mapping[str, str]) -> str:
    """The client's X-Request-Id when it is a plain token of at most 128 characters, else a
    new random one (UUID 4). `headers` as received, or as `turnout.soap.headers_dict` keys
    them (lower-case names, the first value of each), which the gateway has already built."""
    if isinstance(headers, (dict, Mapping)):  # a dict is known without asking the ABC
        given = headers.get(_REQUEST_ID_KEY)
    else:
        given = header(headers, REQUEST_ID_HEADER)
    if given is not None and _REQUEST_ID.fullmatch(given.strip()):
        return given.strip()
    return new_request_id()


#: the variant nibble of an RFC 4122 UUID for each value of the random one it replaces
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_request_id() -> str:
    """A random UUID 4, written as `str(uuid.uuid4())` writes it (122 random bits from
    `os.urandom`, the version and variant bits set), without building a `uuid.UUID`: this runs
    for every request without an id of its own, at well under half the cost."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


@dataclass(frozen=True)
class Subject:
    """Who made the request. `verified` only when an identity check proved it (issue 11's
    verifier); until then the id is what the request claims."""

    id: str | None
    verified: bool = False
    #: where the id came from: wsse-username | x-officer-id | the verifier's method
    source: str | None = None
    #: another, different id the same request also claimed (a device that says two things)
    also_claimed: str | None = None


def subject_of(
    headers: Headers, envelope: Envelope | None, verified: Any = None
) -> Subject:
    """The caller: a verified identity (anything with `.subject`, `.method`) when there is one,
    else the WS-Security UsernameToken's Username (read, not verified), else `X-Officer-Id`."""
    claims: list[tuple[str, str]] = []
    if verified is not None and getattr(verified, "subject", None):
        claims.append((str(getattr(verified, "method", "verified")), str(verified.subject)))
    username = _username(envelope)
    if username:
        claims.append(("wsse-username", username))
    officer = header(headers, OFFICER_HEADER)
    if officer and officer.strip():
        claims.append(("x-officer-id", officer.strip()))
    if not claims:
        return Subject(None)
    source, first = claims[0]
    first_id = _plain(first)
    other = next((_plain(value) for _, value in claims[1:] if value != first), None)
    return Subject(first_id, verified=verified is not None and first_id is not None,
                   source=source, also_claimed=other)


def _username(envelope: Envelope | None) -> str | None:
    if envelope is None or envelope.header is None:
        return None
    element = envelope.header.find(_USERNAME)
    if element is None:
        return None
    text = str(element.xpath("string()")).strip()
    return text or None


def _plain(value: str) -> str | None:
    """An id as claimed when it is a plain token; anything else (free text, a name) is not
    written: the line says `unusable`."""
    return value if _SUBJECT.fullmatch(value) else "unusable"


def answered_by(outcome: str) -> str:
    return _ANSWERED_BY.get(outcome, "proxy")


def safe_notes(notes: Sequence[str]) -> list[str]:
    """The proxy's notes reduced to their kinds (`threat:doctype`, `fallback:timeout`,
    `unreadable`): an error message may quote the request, so its text is never kept."""
    out: list[str] = []
    for note in notes:
        note = note.strip()
        if _NOTE.fullmatch(note):
            kept = note
        else:
            head = re.split(r"[:\s]", note, maxsplit=1)[0].lower()
            if not _NOTE_HEAD.fullmatch(head):
                continue
            kept = head
        if kept not in out:
            out.append(kept)
    return out


def access_line(
    *,
    at: datetime,
    request_id: str,
    subject: Subject,
    service: str | None,
    operation: str | None,
    route: str,
    outcome: str,
    status: int | None,
    ms: float | None,
    client: str | None,
    notes: Sequence[str],
    read: bool,
    identifiers: Sequence[Found],
    truncated: bool = False,
) -> dict[str, Any]:
    """The line as a dict, keys in the order they are written."""
    line: dict[str, Any] = {
        "v": FORMAT,
        "time": _utc(at),
        "request_id": request_id,
        "subject": subject.id,
        "subject_verified": subject.verified,
        "subject_from": subject.source,
        "operation": operation,
        "service": (service or "")[:200] or None,
        "route": route,
        "answered_by": answered_by(outcome),
        "outcome": outcome,
        "status": status,
        "ms": round(ms, 1) if ms is not None else None,
        "client": client,
        "read": read,
        "identifiers": [{"kind": found.kind, "hmac": found.hmac} for found in identifiers],
        "notes": safe_notes(notes),
    }
    if subject.also_claimed is not None:
        line["subject_also_claimed"] = subject.also_claimed
    if truncated:
        line["identifiers_truncated"] = True
    return line


def _utc(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def line_time(line: dict[str, Any]) -> datetime | None:
    try:
        return datetime.strptime(str(line["time"]), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except (KeyError, ValueError):
        return None

