"""The audit key and the keyed hashes of subject identifiers: never the raw value, on disk or off.

An identifier is normalised before it is hashed, so the hash an investigator computes from what
they know matches the one the proxy computed from what a device sent: Unicode NFKC, spaces
collapsed and trimmed, case folded; a date (DD/MM/YYYY or YYYY-MM-DD) becomes YYYY-MM-DD;
a registration mark or a postcode loses its spaces (`AB12 CDE` is `ab12cde`).

The kind is part of what is hashed (`HMAC-SHA256(key, "turnout-audit-1" NUL kind NUL value)`):
the same text as a pncId and as a surname gives two unrelated hashes, and a combined identifier
(a name: surname, forenames, date of birth) hashes its normalised parts joined by a unit
separator, an absent part being empty.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import ConfigError

if TYPE_CHECKING:
    from ..config import AuditSettings

#: bumped if the normalisation or the hashed text ever changes (old lines then need the old one)
_DOMAIN = b"turnout-audit-1"
_UNIT = "\x1f"
_SPACES = re.compile(r"\s+")
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
#: kinds whose spaces carry no meaning (`AB12 CDE` and `AB12CDE` are one vehicle)
SPACELESS = frozenset({"registrationMark", "postcode"})
#: the shortest key accepted, as for the recordings' pseudonymisation key
MIN_KEY_BYTES = 16


def normalise(kind: str, value: str) -> str:
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().casefold()
    if kind in SPACELESS:
        return text.replace(" ", "")
    if match := _DMY.fullmatch(text):
        day, month, year = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    if match := _YMD.fullmatch(text):
        year, month, day = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return text


def combine(kind: str, parts: Sequence[str | None]) -> str:
    """The normalised value of a combined identifier; an absent part is empty."""
    return _UNIT.join(normalise(kind, part) if part else "" for part in parts)


class AuditKey:
    """HMAC-SHA256 of identifiers under the audit key. Holds the key; never prints it."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the audit key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key

    def __repr__(self) -> str:
        return "AuditKey(<hidden>)"

    def digest(self, kind: str, normalised: str) -> str:
        """The hex HMAC of an identifier already normalised (see `normalise`, `combine`)."""
        message = b"\0".join((_DOMAIN, kind.encode(), normalised.encode()))
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def of(self, kind: str, value: str) -> str:
        return self.digest(kind, normalise(kind, value))


def load_key(settings: AuditSettings, source: Path | None = None) -> AuditKey:
    """The key `audit.key_env` or `audit.key_file` names. A key named but missing is a
    ConfigError (never a quiet run without hashes)."""
    if settings.key_env is not None:
        value = os.environ.get(settings.key_env)
        if not value:
            raise ConfigError(f"environment variable {settings.key_env} is not set (the audit key)",
                              field="audit.key_env", file=source)
        key = value.encode()
        field = "audit.key_env"
    elif settings.key_file is not None:
        try:
            key = Path(settings.key_file).read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the audit key {settings.key_file}: {exc.strerror}",
                              field="audit.key_file", file=source) from None
        field = "audit.key_file"
    else:
        raise ConfigError("give key_env or key_file", field="audit", file=source)
    try:
        return AuditKey(key)
    except ValueError as exc:
        raise ConfigError(str(exc), field=field, file=source) from None
