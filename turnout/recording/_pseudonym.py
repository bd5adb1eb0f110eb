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

What a token costs (it is worked out for every value hidden, in the writer process): dates are
read and written by their fixed layout, not by `strptime` (a regex built per call, a lock, 4 µs)
unless they hold other digits than ASCII; a date's shift is remembered, so its three spellings
cost one MAC; the MAC starts from the key's HMAC state instead of hashing the key again; and
the last few thousand tokens, and runs, are remembered, since the same officer, vehicle or
person comes back within an exchange and across exchanges, and so do towns and street names
inside values that differ. Output is unchanged: `tests/test_pseudonym.py`
checks 20,000 values against the implementation before these changes.
"""

from __future__ import annotations

import hashlib
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
#: the most tokens, date shifts and runs remembered (then forgotten all at once)
_REMEMBERED = 4096
#: where year, month and day are in a date of each format (ASCII digits)
_LAYOUTS = {"%d/%m/%Y": (slice(6, 10), slice(3, 5), slice(0, 2)),
            "%Y-%m-%d": (slice(0, 4), slice(5, 7), slice(8, 10)),
            "%Y%m%d": (slice(0, 4), slice(4, 6), slice(6, 8))}


def parse_date(text: str, fmt: str) -> date | None:
    """`datetime.strptime(text, fmt).date()`, or None where it raises ValueError, for a `text`
    the format's pattern in `_DATE_FORMATS` matches. With ASCII digits each field is in its
    place (two digits for a month or day, four for a year), which is the only way `strptime`
    reads such a text too; other digits (which `\\d` matches) are left to `strptime`."""
    if not text.isascii():
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            return None
    year, month, day = _LAYOUTS[fmt]
    try:
        return date(int(text[year]), int(text[month]), int(text[day]))
    except ValueError:
        return None


def format_date(day: date, fmt: str) -> str:
    """`day.strftime(fmt)` for the formats in `_DATE_FORMATS` (years 1000 to 9999)."""
    if not 1000 <= day.year <= 9999:
        return day.strftime(fmt)
    if fmt == "%d/%m/%Y":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    if fmt == "%Y-%m-%d":
        return f"{day.year}-{day.month:02d}-{day.day:02d}"
    if fmt == "%Y%m%d":
        return f"{day.year}{day.month:02d}{day.day:02d}"
    return day.strftime(fmt)


class Pseudonymiser:
    """A `Replacement` for the `Redactor`: `(value, rule) -> pseudonym`."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a pseudonymisation key must be at least 16 bytes")
        self._key = key
        #: HMAC-SHA256 with the key already absorbed: each MAC copies it
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        #: value -> token and date -> shifted date, each at most `_REMEMBERED` (dict operations
        #: are atomic, so threads sharing one instance at worst work a token out twice)
        self._tokens: dict[str, str] = {}
        self._shifts: dict[date, date] = {}
        #: run of letters or digits -> its token: a town, a street's kind, a house number
        #: come back in values that differ
        self._runs: dict[str, str] = {}

    def __call__(self, value: str, rule: Any = None) -> str:
        token = self._tokens.get(value)
        if token is None:
            token = self._pseudonym(value)
            if len(self._tokens) >= _REMEMBERED:
                self._tokens.clear()
            self._tokens[value] = token
        return token

    def digest_key(self) -> bytes:
        """A key derived from this one for digests that must be stable but not guessable
        (the folder of a service path no route names); never the key itself."""
        return self._mac(b"digest-key", b"")

    def _pseudonym(self, value: str) -> str:
        core = value.strip()
        if not core:
            return value
        start = value.index(core[0])
        return value[:start] + self._token(core) + value[start + len(core):]

    def _token(self, text: str) -> str:
        if text.isascii() and text.isalnum() and len(text) != 8:  # no date (`%Y%m%d` is 8)
            if text.isalpha() or text.isdigit():  # one run (a surname, a number): no regex
                return self._run(text)
            return _RUN.sub(self._run_of, text)
        shifted = self._date(text)
        if shifted is not None:
            return shifted
        return _RUN.sub(self._run_of, text)

    def _date(self, text: str) -> str | None:
        match = _ISO_DATETIME.fullmatch(text)
        if match:
            day = self._date(match.group(1))
            return None if day is None else day + match.group(2)
        for pattern, fmt in _DATE_FORMATS:
            if pattern.fullmatch(text):
                parsed = parse_date(text, fmt)
                if parsed is None or not 1800 <= parsed.year <= 2200:
                    return None
                return format_date(self._shift(parsed), fmt)
        return None

    def _shift(self, day: date) -> date:
        shifted = self._shifts.get(day)
        if shifted is None:
            digest = self._mac(b"date", day.isoformat().encode())
            days = 1 + int.from_bytes(digest[:4], "big") % _MAX_SHIFT_DAYS
            shifted = day - timedelta(days=days)
            if len(self._shifts) >= _REMEMBERED:
                self._shifts.clear()
            self._shifts[day] = shifted
        return shifted

    def _run_of(self, match: re.Match[str]) -> str:
        return self._run(match.group(0))

    def _run(self, run: str) -> str:
        token = self._runs.get(run)
        if token is None:
            token = self._run_token(run)
            if len(self._runs) >= _REMEMBERED:
                self._runs.clear()
            self._runs[run] = token
        return token

    def _run_token(self, run: str) -> str:
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
        mac = self._keyed.copy()
        mac.update(kind + b"\x00" + data)
        return mac.digest()

    def _stream(self, kind: bytes, data: bytes, length: int) -> bytes:
        """`length` bytes of the keyed stream for `data`: the MACs of `data` and a counter."""
        if length <= 32:  # one block
            return self._mac(kind, data + b"\x00\x00\x00\x00")[:length]
        blocks, have, counter = [], 0, 0
        while have < length:
            block = self._mac(kind, data + counter.to_bytes(4, "big"))
            blocks.append(block)
            have += len(block)
            counter += 1
        return b"".join(blocks)[:length]
