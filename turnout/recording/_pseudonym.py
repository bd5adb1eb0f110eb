"""Pseudonyms instead of a fixed token: keyed, consistent, and in the field's own format.

The same value becomes the same token wherever it appears - in the request, the legacy answer,
the JSON call and the JSON reply of an exchange, and across exchanges - so recordings still
replay through translators and golden tests pass on pseudonymised data. Tokens keep the shape of
what they replace: a date stays a valid date in its own format (shifted back by a keyed number
of days, so a date of birth stays in the past), letters stay letters with the same case pattern,
digits stay digits, and spaces, hyphens and punctuation stay where they were. Comparison of
letters ignores case, so `THISTLEWOOD` and `Thistlewood` get `QWERTYUIOPA` and `Qwertyuiopa`.

The key (HMAC-SHA256) comes from an environment variable or a key file, never from beside the
recordings: without it, nobody can confirm a guess of who a token stands for.
"""

from __future__ import annotations

import hmac
import re
from datetime import date, datetime, timedelta
from typing import Any

_RUN = re.compile(r"[^\W\d_]+|\d+")  # runs of letters, runs of digits
_DATE_FORMATS = (
    (re.compile(r"\d{2}/\d{2}/\d{4}"), "%d/%m/%Y"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    (re.compile(r"\d{8}"), "%Y%m%d"),
)
_ISO_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})(T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)")
_MAX_SHIFT_DAYS = 3650
#: a byte of the keyed stream -> the digit, and the letter, it stands for
_DIGITS = bytes(ord("0") + b % 10 for b in range(256))
_LETTERS = bytes(ord("a") + b % 26 for b in range(256))


class Pseudonymiser:
    """A `Replacement` for the `Redactor`: `(value, rule) -> pseudonym`."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a pseudonymisation key must be at least 16 bytes")
        self._key = key

    def __call__(self, value: str, rule: Any = None) -> str:
        core = value.strip()
        if not core:
            return value
        start = value.index(core[0])
        return value[:start] + self._token(core) + value[start + len(core):]

    def digest_key(self) -> bytes:
        """A key derived from this one for digests that must be stable but not guessable
        (the folder of a service path no route names); never the key itself."""
        return self._mac(b"digest-key", b"")

    def _token(self, text: str) -> str:
        shifted = self._date(text)
        if shifted is not None:
            return shifted
        return _RUN.sub(lambda m: self._run(m.group(0)), text)

    def _date(self, text: str) -> str | None:
        match = _ISO_DATETIME.fullmatch(text)
        if match:
            day = self._date(match.group(1))
            return None if day is None else day + match.group(2)
        for pattern, fmt in _DATE_FORMATS:
            if pattern.fullmatch(text):
                try:
                    parsed = datetime.strptime(text, fmt).date()
                except ValueError:
                    return None
                if not 1800 <= parsed.year <= 2200:
                    return None
                return self._shift(parsed).strftime(fmt)
        return None

    def _shift(self, day: date) -> date:
        digest = self._mac(b"date", day.isoformat().encode())
        days = 1 + int.from_bytes(digest[:4], "big") % _MAX_SHIFT_DAYS
        return day - timedelta(days=days)

    def _run(self, run: str) -> str:
        if run.isdigit():
            return self._stream(b"digits", run.encode(), len(run)).translate(_DIGITS).decode("ascii")
        letters = self._stream(b"letters", run.lower().encode("utf-8"), len(run))
        token = letters.translate(_LETTERS).decode("ascii")
        if run.isascii():  # every letter cased: the case of the run, not letter by letter
            if run.isupper():
                return token.upper()
            if run.islower():
                return token
        return "".join(c.upper() if o.isupper() else c for c, o in zip(token, run, strict=True))

    def _mac(self, kind: bytes, data: bytes) -> bytes:
        return hmac.digest(self._key, kind + b"\x00" + data, "sha256")

    def _stream(self, kind: bytes, data: bytes, length: int) -> bytes:
        """`length` bytes of the keyed stream for `data`: the MACs of `data` and a counter."""
        blocks, have, counter = [], 0, 0
        while have < length:
            block = self._mac(kind, data + counter.to_bytes(4, "big"))
            blocks.append(block)
            have += len(block)
            counter += 1
        return b"".join(blocks)[:length]
