"""Checking a recording set for personal data that should never have reached disk.

Redaction is configuration, and configuration can miss a field. `scan` reads every recording as
text and looks for known raw values (e.g. the people a test data set holds, or a list an
operator keeps) and for patterns (dates of birth, postcodes, and the demo's PNC IDs, officer
IDs, vehicle registrations and postcodes). A hit names the file, the line and the kind of
value, never the value itself: the report must not become the leak.

A body stored as base64 is invisible to a text search, and recordings written before the store
decoded compressed bodies hold gzip (or deflate, br, zstd) answers that way, with their
`Content-Encoding` header. So each base64 body is also decoded (within bounds) and its text
searched; a hit there names the line of the `body_base64` key and, inside the body, its own
line. A compressed body that cannot be decoded is a hit too: it could not be checked.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from turnout.soap import XmlThreat, decode_content, is_encoded

from . import _yaml
from ._decode import DEFAULT_MAX_DECODED
from ._exchange import is_exchange_id
from ._store import SUFFIX

_MESSAGES = ("request", "response", "translated")

#: a space as a recording may spell it: itself, `+` or `%20` in a URL, an escape
_SPACE = r"(?:\s|\+|%20|\\u0020|&#32;|&#x20;)?"
#: a slash the same way
_SLASH = r"(?:/|%2F|\\/|\\u002F|&#47;|&#x2F;)"

#: named patterns an operator can ask for; broad on purpose (false positives are cheap here)
PATTERNS: dict[str, re.Pattern[str]] = {
    "date": re.compile(r"\b(?:\d{2}/\d{2}/(?:19|20)\d{2}|(?:19|20)\d{2}-\d{2}-\d{2})\b"),
    "postcode": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b"),
    # The demo's identifiers (`scan --demo` looks for every `demo-` pattern). Pseudonyms keep a
    # value's shape (a PNC ID stays two digits, a slash, six digits and a letter), so these
    # look for what only the raw values have: the
    # demo force's code 98, Turnbridge's TB, the officers' rank prefixes.
    "demo-pnc-id": re.compile(rf"(?<!\w)98{_SLASH}\d{{6}}[A-Z](?!\w)", re.IGNORECASE),
    "demo-officer-id": re.compile(
        r"(?<!\w)(?:PCSO|PC|PS|DC|DS|DI|DCI|DSU|SGT|INSP)\d{3,5}(?!\w)", re.IGNORECASE
    ),
    "demo-vehicle": re.compile(rf"(?<!\w)TB\d{{2}}{_SPACE}[A-Z]{{3}}(?!\w)", re.IGNORECASE),
    "demo-postcode": re.compile(rf"(?<!\w)TB\d{{1,2}}{_SPACE}\d[A-Z]{{2}}(?!\w)", re.IGNORECASE),
}


@dataclass(frozen=True)
class Hit:
    path: Path
    line: int
    kind: str  # "known value", a pattern name, or "compressed body not scanned (<why>)"
    #: where inside a base64 body it is, e.g. "gzip response body, line 3"
    inside: str | None = None

    def __str__(self) -> str:
        where = f" (in the {self.inside})" if self.inside else ""
        return f"{self.path}:{self.line}: {self.kind}{where}"


def _known_pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({v.strip() for v in values if len(v.strip()) >= 3}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![\w]){'(?:' + alternatives + ')'}(?![\w])", re.IGNORECASE)


def scan(root: Path, known: Iterable[str] = (), patterns: Iterable[str] = ()) -> list[Hit]:
    """Every line of every recording under `root` that holds a known value or matches a pattern.

    Values shorter than three characters are ignored (they would match everywhere).
    """
    checks: list[tuple[str, re.Pattern[str]]] = []
    if (pattern := _known_pattern(known)) is not None:
        checks.append(("known value", pattern))
    for name in patterns:
        if name not in PATTERNS:
            raise ValueError(f"unknown pattern {name!r} (known: {', '.join(sorted(PATTERNS))})")
        checks.append((name, PATTERNS[name]))
    hits: list[Hit] = []
    for path in sorted(root.rglob(f"*{SUFFIX}")):
        if not is_exchange_id(path.name[: -len(SUFFIX)]):
            continue  # temp files, rules files and anything else that is not a recording
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.split("\n"), start=1):
            for kind, check in checks:
                if check.search(line):
                    hits.append(Hit(path, number, kind))
        hits.extend(_scan_base64_bodies(path, text, checks))
    return hits


def _scan_base64_bodies(
    path: Path, text: str, checks: list[tuple[str, re.Pattern[str]]]
) -> Iterator[Hit]:
    """Hits inside the file's base64 bodies, decoded (and uncompressed when compressed)."""
    if "body_base64:" not in text:
        return
    try:
        doc = _yaml.load(text)
    except _yaml.YAMLError:
        return  # the text search above is all that can be done for a broken file
    if not isinstance(doc, _yaml.MarkedDict):
        return
    for which in _MESSAGES:
        message = doc.get(which)
        if not isinstance(message, _yaml.MarkedDict) or not isinstance(
            message.get("body_base64"), str
        ):
            continue
        line = message.line_of("body_base64")
        coding = _content_encoding(message.get("headers"))
        what = f"{coding} {which} body" if coding else f"base64 {which} body"
        try:
            body = base64.b64decode(message["body_base64"])
            if coding:
                body = decode_content(body, coding, DEFAULT_MAX_DECODED)
        except (binascii.Error, ValueError):
            yield Hit(path, line, "body not scanned (not base64)", what)
            continue
        except XmlThreat as exc:
            yield Hit(path, line, f"compressed body not scanned ({exc.kind})", what)
            continue
        for number, body_line in enumerate(_text(body).split("\n"), start=1):
            for kind, check in checks:
                if check.search(body_line):
                    yield Hit(path, line, kind, f"{what}, line {number}")


def _content_encoding(headers: Any) -> str | None:
    if not isinstance(headers, list):
        return None
    values = [
        str(pair[1]) for pair in headers
        if isinstance(pair, list) and len(pair) == 2 and str(pair[0]).lower() == "content-encoding"
    ]
    coding = ", ".join(values)
    return coding if is_encoded(coding) else None


def _text(body: bytes) -> str:
    """A body as text, whatever its charset, for searching (not for showing)."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body.decode("utf-16", errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1")
