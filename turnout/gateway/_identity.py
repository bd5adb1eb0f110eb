"""Who is calling, on the translator path: established the way the bus did, before any translator.

The bus decides who may ask the national police computer about a person. When an operation moves
to a translator, that decision must move with it, or the move silently drops authentication,
authorisation and audit. So, before a translator runs (translator and canary routes, and the
shadow), the caller's identity is established as the bus establishes it (the WS-Security
UsernameToken verified with `turnout.soap.verify_username_token`: digest, time window, nonce
cache, against the configured officers), and the operation's role is checked. The modern service
is never called without both. A refusal is handed to the translator as the modern service
itself would answer it (401 or 403 problem+json), so the translator's fault rules word it
exactly as the bus does: the client cannot tell the two paths apart by their refusals.

With an identity, the modern service receives who is asking in a form it can verify: a
short-lived JWT (HS256 under a key Turnout holds) with subject, roles, operation and request id
(docs/identity.md).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from ..config import ConfigError, IdentitySettings, load_officers, load_operation_roles
from ..soap import (
    Envelope,
    Identity,
    IdentityError,
    NonceCache,
    Officer,
    verify_username_token,
)
from ..translators import JsonReply

PROBLEM_BASE = "https://turnout.invalid/problems/"
ISSUER = "turnout"


@dataclass(frozen=True)
class Refusal:
    """No valid identity (401) or no role for the operation (403), as a modern service says it."""

    status: int
    kind: str  # "unauthenticated" | "forbidden"
    detail: str
    #: why, for the log and the recording (never the secret, never which part of a token failed
    #: beyond its kind)
    why: str

    def problem(self) -> dict[str, object]:
        slug = "unauthorized" if self.status == 401 else "forbidden"
        title = ("A valid bearer token is required" if self.status == 401
                 else "The token does not grant this operation")
        return {"type": PROBLEM_BASE + slug, "title": title, "status": self.status, "detail": self.detail}


class Gatekeeper:
    """Establishes identities for one running proxy: officers loaded once, one nonce cache.
    Raises ConfigError at start for a missing key or a bad officers file."""

    def __init__(self, settings: IdentitySettings) -> None:
        self.settings = settings
        self.officers: Mapping[str, Officer] = load_officers(settings.officers)
        self.roles: Mapping[str, str] = load_operation_roles(settings.officers)
        self.nonces = NonceCache()
        self.key = _token_key(settings)

    def establish(self, envelope: Envelope, operation_key: str) -> Identity | Refusal:
        try:
            identity = verify_username_token(envelope, self.officers, now=datetime.now(UTC),
                                             window=self.settings.window, nonces=self.nonces)
        except IdentityError as error:
            return Refusal(401, "unauthenticated", "the caller could not be authenticated",
                           f"identity {error.kind}")
        role = self.roles.get(operation_key)
        if role is None or role not in identity.roles:
            return Refusal(403, "forbidden", f"officer {identity.subject} is not allowed to call {operation_key}",
                           f"no role {role or '(none listed)'} for {operation_key}")
        return identity

    def token(self, identity: Identity, service: str, operation_key: str, request_id: str) -> str:
        """A short-lived JWT saying who asks, for `service` alone."""
        import jwt  # a dependency of turnout's; imported here to keep proxy start-up lean

        now = int(time.time())
        claims = {
            "iss": ISSUER, "aud": service, "sub": identity.subject, "roles": sorted(identity.roles),
            "op": operation_key, "rid": request_id, "iat": now, "exp": now + self.settings.token_ttl,
            "jti": secrets.token_hex(8), "amr": [identity.method],
        }
        return jwt.encode(claims, self.key, algorithm="HS256")

    def refusal_reply(self, refusal: Refusal) -> JsonReply:
        """The refusal as the modern service would answer it, for the translator's reply half."""
        return JsonReply(refusal.status, (("Content-Type", "application/problem+json"),), refusal.problem())


def _token_key(settings: IdentitySettings) -> bytes:
    """The key as written (whitespace stripped), as the services read it; at least 32 bytes."""
    import os

    if settings.token_key_file is not None:
        try:
            raw = settings.token_key_file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the service token key: {exc.strerror or exc}",
                              file=settings.token_key_file, field="identity.token_key_file") from None
        where = str(settings.token_key_file)
    else:
        assert settings.token_key_env is not None
        raw = os.environ.get(settings.token_key_env, "").encode()
        where = f"${settings.token_key_env}"
    key = raw.strip()
    if len(key) < 32:
        raise ConfigError(f"the service token key in {where} is shorter than 32 bytes",
                          field="identity.token_key_file" if settings.token_key_file else "identity.token_key_env")
    return key

