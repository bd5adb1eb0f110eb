"""Who may call what on the demo: its officers, the role each operation needs, its token key.

    identity = DemoIdentity.load()                  # turnout/demo/identity.yaml
    make_legacy_app(store, identity)                 # the bus checks every UsernameToken
    make_modern_app(store, token_key=read_token_key())   # the services check every bearer JWT

`identity-token.key` is the HMAC key (HS256) the modern services verify Turnout's JWTs with: the
file's bytes, surrounding whitespace stripped (the 64 hex characters themselves, not decoded), as
Turnout reads a redaction key. **It is a demo key**: it ships in the package and in git, so
anyone can mint tokens with it, and a packaged file cannot be kept at mode 0600. A real key is
generated per installation, kept out of git, readable by the service alone (0600).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..config import load_officers, load_operation_roles
from ..soap import (
    DEFAULT_WINDOW,
    Envelope,
    Identity,
    NonceCache,
    Officer,
    verify_username_token,
)

DEMO_IDENTITY = Path(__file__).with_name("identity.yaml")
DEMO_TOKEN_KEY = Path(__file__).with_name("identity-token.key")

_MIN_KEY_BYTES = 32


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Forbidden(Exception):
    """An authenticated officer lacks the role an operation needs."""

    def __init__(self, identity: Identity, operation: str) -> None:
        super().__init__(f"officer {identity.subject} is not allowed to call {operation}")
        self.identity = identity
        self.operation = operation


@dataclass
class DemoIdentity:
    """The officers the demo bus knows, the role each operation needs, and the nonces it has
    seen. One per bus: its nonce cache is what refuses a replayed token."""

    officers: Mapping[str, Officer]
    #: operation key (`/pnc PersonEnquiry`) -> role; an operation not listed is refused to all
    operations: Mapping[str, str]
    window: float = DEFAULT_WINDOW
    nonces: NonceCache = field(default_factory=NonceCache)
    clock: Callable[[], datetime] = _utc_now

    @classmethod
    def load(cls, path: Path | str = DEMO_IDENTITY) -> DemoIdentity:
        """From an identity file; errors name file, line and field (`ConfigError`)."""
        return cls(officers=load_officers(path), operations=load_operation_roles(path))

    def authenticate(self, envelope: Envelope) -> Identity:
        """The officer who signed `envelope`; `IdentityError` when that cannot be shown."""
        return verify_username_token(
            envelope, self.officers, now=self.clock(), window=self.window, nonces=self.nonces
        )

    def authorise(self, identity: Identity, operation: str) -> None:
        """Raise `Forbidden` unless `identity` holds the role `operation` (a key) needs."""
        if not may_call(identity.roles, operation, self.operations):
            raise Forbidden(identity, operation)


def may_call(roles: frozenset[str] | set[str], operation: str, operations: Mapping[str, str]) -> bool:
    """Does someone with `roles` hold the role `operation` needs? An unlisted one: nobody does."""
    role = operations.get(operation)
    return role is not None and role in roles


def read_token_key(path: Path | str = DEMO_TOKEN_KEY) -> bytes:
    """The HS256 key in `path`: its bytes with surrounding whitespace stripped, at least 32."""
    key = Path(path).read_bytes().strip()
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"{path}: a token key must be at least {_MIN_KEY_BYTES} bytes")
    return key
