"""WS-Security UsernameToken (OASIS WSS 1.0): who sent an envelope, checked one way for all.

One verifier, used by the demo bus and by Turnout's proxy:

    identity = verify_username_token(envelope, officers, now=now, window=300, nonces=cache)

reads `wsse:Security/wsse:UsernameToken` from the envelope's Header and answers the `Identity`
of the officer who signed it, or raises `IdentityError` with a stable `kind`:

| kind           | when                                                                        |
| ---            | ---                                                                         |
| `missing`      | no Header, no `wsse:Security`, or no `UsernameToken` in it                  |
| `malformed`    | two tokens, no Username, a Password type we do not know, a Nonce that is   |
|                | not base64, a Created that is not a UTC-anchored dateTime, a digest without |
|                | its Nonce and Created                                                       |
| `expired`      | Created more than `window` seconds before now, or after it                  |
| `unknown-user` | the Username is not an officer                                              |
| `bad-digest`   | the password (text or digest) is wrong                                      |
| `replayed`     | the Nonce was accepted before, within the window                            |

A digest is `base64(sha1(nonce_bytes + created_utf8 + password_utf8))`, over Created exactly as
written (zeep writes `...+00:00` by default, `...Z` with `zulu_timestamp=True`; both are read).
PasswordText is accepted too; its Nonce and Created are optional and checked when present.
Secrets are compared in constant time, and an unknown user costs the same digest as a known
one, so neither the answer nor its timing says which part failed.

A nonce is remembered only once the password checks out (a forger cannot fill the cache), until
its token's Created leaves the window. The cache is bounded: when it is full of nonces still in
their window, a new token is refused as `replayed` (it cannot be shown not to be one) rather than
forgetting a live nonce, which would let its replay through.

Nothing here imports above `turnout.soap`: identity files (officers, operation roles) are read
by `turnout.config.load_officers`, which builds the `Officer`s this module checks against.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from lxml import etree

from ._errors import SoapError

if TYPE_CHECKING:
    from ._envelope import Envelope

WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_DIGEST = f"{_TOKEN_PROFILE}#PasswordDigest"
PASSWORD_TEXT = f"{_TOKEN_PROFILE}#PasswordText"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

#: seconds either side of now a token's Created may be
DEFAULT_WINDOW = 300.0
#: nonces remembered at most (each a few hundred bytes)
DEFAULT_MAX_NONCES = 100_000

IDENTITY_ERROR_KINDS = frozenset(
    {"missing", "malformed", "unknown-user", "bad-digest", "expired", "replayed"}
)

_MAX_NONCE_BYTES = 256
#: the longest officer id a token or an identity file may name
MAX_USERNAME = 256
# xsd:dateTime anchored in time: a zone is required (a Created without one means nothing here)
_CREATED = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})"
)


class IdentityError(SoapError):
    """Who sent the envelope cannot be established. `kind` is one of IDENTITY_ERROR_KINDS.

    The message is for logs; whoever answers the caller must not say which part failed.
    """

    def __init__(self, kind: str, message: str) -> None:
        if kind not in IDENTITY_ERROR_KINDS:
            raise ValueError(f"unknown identity error kind {kind!r}")
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Identity:
    """Who sent a request, as established: the officer id, their roles, and how we know."""

    subject: str
    roles: frozenset[str]
    method: str  # "username-token" | "client-certificate"


@dataclass(frozen=True)
class Officer:
    """One entry of an identity file. The password never shows in a repr or a log line."""

    password: str = field(repr=False)
    roles: frozenset[str]


class NonceCache:
    """Nonces already accepted, each until its token leaves the window; thread-safe.

    Bounded by count: `add` refuses (returns False) a new nonce when `max_entries` nonces are
    still live, rather than forgetting one whose replay would then pass.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_NONCES) -> None:
        if max_entries < 1:
            raise ValueError("a nonce cache must hold at least one nonce")
        self.max_entries = max_entries
        self._expiry: dict[bytes, float] = {}
        self._queue: list[tuple[float, bytes]] = []  # a heap by expiry
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)

    @property
    def full(self) -> bool:
        with self._lock:
            return len(self._expiry) >= self.max_entries

    def add(self, nonce: bytes, *, now: datetime, expires: datetime) -> bool:
        """Remember `nonce` until `expires`. False when it is already remembered (a replay) or
        the cache is full of live nonces; True when it was new and is now remembered."""
        now_ts, expires_ts = _aware(now).timestamp(), _aware(expires).timestamp()
        with self._lock:
            self._forget_expired(now_ts)
            if nonce in self._expiry:
                return False
            if len(self._expiry) >= self.max_entries:
                return False
            self._expiry[nonce] = expires_ts
            heapq.heappush(self._queue, (expires_ts, nonce))
            return True

    def _forget_expired(self, now_ts: float) -> None:
        while self._queue and self._queue[0][0] <= now_ts:
            expiry, nonce = heapq.heappop(self._queue)
            if self._expiry.get(nonce) == expiry:
                del self._expiry[nonce]


def verify_username_token(
    envelope: Envelope,
    officers: Mapping[str, Officer],
    *,
    now: datetime,
    window: float = DEFAULT_WINDOW,
    nonces: NonceCache,
) -> Identity:
    """The officer whose UsernameToken signs `envelope`, or IdentityError (see the module)."""
    now = _aware(now)
    token = _token(envelope.header)
    username = _only(token, WSSE_NS, "Username", required=True)
    subject = (username.text or "").strip() if username is not None else ""
    if not subject or len(subject) > MAX_USERNAME:
        raise IdentityError("malformed", "UsernameToken has no usable Username")
    password = _only(token, WSSE_NS, "Password", required=True)
    assert password is not None
    kind = password.get("Type", PASSWORD_TEXT).strip()
    if kind not in (PASSWORD_DIGEST, PASSWORD_TEXT):
        raise IdentityError("malformed", f"Password Type {kind!r} is not PasswordDigest or PasswordText")
    nonce = _nonce(_only(token, WSSE_NS, "Nonce", required=kind == PASSWORD_DIGEST))
    created_node = _only(token, WSU_NS, "Created", required=kind == PASSWORD_DIGEST)
    created_text = (created_node.text or "").strip() if created_node is not None else None
    created = _created(created_text) if created_text is not None else None
    digest = _digest_value(password.text) if kind == PASSWORD_DIGEST else None

    if created is not None:
        skew = (now - created).total_seconds()
        if skew > window:
            raise IdentityError("expired", f"token created {skew:.0f} s ago, over the {window:g} s window")
        if -skew > window:
            raise IdentityError("expired", f"token created {-skew:.0f} s in the future, over the {window:g} s window")

    officer = officers.get(subject)
    # an unknown user costs what a known one does: the same digest against a stand-in
    expected_password = officer.password if officer is not None else _STAND_IN
    if digest is not None:
        assert nonce is not None and created_text is not None
        matches = hmac.compare_digest(digest, password_digest(nonce, created_text, expected_password))
    else:
        given = (password.text or "").encode("utf-8")
        matches = hmac.compare_digest(given, expected_password.encode("utf-8"))
    if officer is None:
        raise IdentityError("unknown-user", f"no officer {subject!r}")
    if not matches:
        raise IdentityError("bad-digest", f"wrong password for {subject!r}")

    if nonce is not None:
        anchor = created if created is not None else now
        if not nonces.add(nonce, now=now, expires=anchor + timedelta(seconds=window)):
            why = "cannot be remembered: the nonce cache is full" if nonces.full else "was seen before"
            raise IdentityError("replayed", f"nonce from {subject!r} {why}")
    return Identity(subject=subject, roles=officer.roles, method="username-token")


def password_digest(nonce: bytes, created: str, password: str) -> bytes:
    """`sha1(nonce + created + password)`: the raw 20 bytes a PasswordDigest encodes in base64."""
    return hashlib.sha1(nonce + created.encode("utf-8") + password.encode("utf-8")).digest()


def username_token_header(
    username: str, password: str, *, nonce: bytes, created: datetime
) -> etree._Element:
    """A `wsse:Security` element holding a PasswordDigest UsernameToken, for a client's (or a
    test's) envelope Header. Created is written in UTC to whole seconds, ending in `Z`."""
    created_text = _aware(created).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    security = etree.Element(f"{{{WSSE_NS}}}Security", nsmap={"wsse": WSSE_NS, "wsu": WSU_NS})
    token = etree.SubElement(security, f"{{{WSSE_NS}}}UsernameToken")
    etree.SubElement(token, f"{{{WSSE_NS}}}Username").text = username
    digest = base64.b64encode(password_digest(nonce, created_text, password)).decode("ascii")
    etree.SubElement(token, f"{{{WSSE_NS}}}Password", Type=PASSWORD_DIGEST).text = digest
    etree.SubElement(token, f"{{{WSSE_NS}}}Nonce", EncodingType=BASE64_BINARY).text = (
        base64.b64encode(nonce).decode("ascii")
    )
    etree.SubElement(token, f"{{{WSU_NS}}}Created").text = created_text
    return security


# --- reading a token ------------------------------------------------------------------------

#: what an unknown user's token is checked against, so it costs what a known one does
_STAND_IN = "\x00turnout: no such officer\x00"


def _token(header: etree._Element | None) -> etree._Element:
    if header is None:
        raise IdentityError("missing", "envelope has no Header")
    securities = list(header.iterchildren(f"{{{WSSE_NS}}}Security"))
    if not securities:
        raise IdentityError("missing", "Header has no wsse:Security")
    if len(securities) > 1:
        raise IdentityError("malformed", "Header has more than one wsse:Security")
    tokens = list(securities[0].iterchildren(f"{{{WSSE_NS}}}UsernameToken"))
    if not tokens:
        raise IdentityError("missing", "wsse:Security has no UsernameToken")
    if len(tokens) > 1:
        raise IdentityError("malformed", "wsse:Security has more than one UsernameToken")
    return tokens[0]


def _only(parent: etree._Element, namespace: str, name: str, *, required: bool) -> etree._Element | None:
    found = list(parent.iterchildren(f"{{{namespace}}}{name}"))
    if len(found) > 1:
        raise IdentityError("malformed", f"UsernameToken has more than one {name}")
    if not found:
        if required:
            raise IdentityError("malformed", f"UsernameToken has no {name}")
        return None
    return found[0]


def _b64(text: str | None, what: str) -> bytes:
    compact = "".join((text or "").split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise IdentityError("malformed", f"{what} is not base64") from None


def _nonce(node: etree._Element | None) -> bytes | None:
    if node is None:
        return None
    encoding = node.get("EncodingType", BASE64_BINARY).strip()
    if encoding != BASE64_BINARY:
        raise IdentityError("malformed", f"Nonce EncodingType {encoding!r} is not Base64Binary")
    nonce = _b64(node.text, "Nonce")
    if not 1 <= len(nonce) <= _MAX_NONCE_BYTES:
        raise IdentityError("malformed", f"Nonce must be 1 to {_MAX_NONCE_BYTES} bytes")
    return nonce


def _digest_value(text: str | None) -> bytes:
    digest = _b64(text, "PasswordDigest")
    if len(digest) != hashlib.sha1().digest_size:
        raise IdentityError("malformed", "PasswordDigest is not a SHA-1 digest")
    return digest


def _created(text: str) -> datetime:
    match = _CREATED.fullmatch(text)
    if match is None:
        raise IdentityError("malformed", f"Created {text[:40]!r} is not a dateTime with a zone")
    stamp, fraction, zone = match.groups()
    micro = (fraction or "").ljust(6, "0")[:6]
    try:
        when = datetime.fromisoformat(f"{stamp}.{micro}{'+00:00' if zone == 'Z' else zone}")
    except ValueError:
        raise IdentityError("malformed", f"Created {text!r} is not a calendar time") from None
    return when.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times must carry a zone (use datetime.now(timezone.utc))")
    return moment
